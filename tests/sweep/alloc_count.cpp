// Counting operator new for this executable (test instrumentation): one counter per thread.
//
// GPU-hosted ranks (GpuSweep) call cuDNN/cuBLAS/NCCL, whose sub-libraries import this executable's
// operator new: their own allocations are not the engine's, so while exclude_gpu_library_allocations()
// is on, an allocation with a frame of one of those libraries on its call stack is counted apart
// (gpu_library_allocations()) instead. Off (the CPU sweep), the cost is one relaxed atomic load.
#include "tests/sweep/alloc_count.hpp"

#include <execinfo.h>
#include <link.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>

namespace {
thread_local long t_news = 0, t_gpu_lib_news = 0;
thread_local bool t_in_check = false;
std::atomic<bool> g_exclude{false};
std::atomic<const char* const*> g_patterns{nullptr};

const char* const kGpuLibraries[] = {"libcudnn", "libcublas", "libnccl", "libcudart", "libcuda.so", "libnvrtc",
                                     "libnvJitLink", "libcupti", nullptr};

struct Frames {
  void* const* at;
  int n;
  const char* const* patterns;
  bool found;
};

bool named(const char* path, const char* const* patterns) {
  if (!path || !*path) return false;
  const char* slash = std::strrchr(path, '/');
  const char* base = slash ? slash + 1 : path;
  for (const char* const* p = patterns; *p; ++p)
    if (std::strncmp(base, *p, std::strlen(*p)) == 0) return true;
  return false;
}

int visit(struct dl_phdr_info* info, size_t, void* data) {
  auto* f = static_cast<Frames*>(data);
  if (!named(info->dlpi_name, f->patterns)) return 0;
  for (int s = 0; s < info->dlpi_phnum; ++s) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[s];
    if (ph.p_type != PT_LOAD) continue;
    const std::uintptr_t lo = info->dlpi_addr + ph.p_vaddr, hi = lo + ph.p_memsz;
    for (int i = 0; i < f->n; ++i) {
      const auto a = reinterpret_cast<std::uintptr_t>(f->at[i]);
      if (a >= lo && a < hi) {
        f->found = true;
        return 1;
      }
    }
  }
  return 0;
}

// Whether the current call stack (up to 24 frames) passes through one of the excluded libraries.
bool from_excluded_library() {
  void* frames[24];
  t_in_check = true;  // backtrace() may allocate on its first call (it loads the unwinder)
  const int n = backtrace(frames, 24);
  Frames f{frames, n, g_patterns.load(std::memory_order_relaxed), false};
  if (f.patterns) dl_iterate_phdr(visit, &f);
  t_in_check = false;
  return f.found;
}

void count() {
  if (g_exclude.load(std::memory_order_relaxed) && !t_in_check && from_excluded_library()) {
    ++t_gpu_lib_news;
    return;
  }
  ++t_news;
}
}  // namespace

void* operator new(std::size_t n) {
  count();
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) {
  count();
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

namespace gg::sweep {

long thread_allocations() { return t_news; }
long gpu_library_allocations() { return t_gpu_lib_news; }

void exclude_library_allocations(const char* const* patterns) {
  if (patterns) {
    void* warm[4];
    t_in_check = true;
    backtrace(warm, 4);  // load the unwinder now, not inside a counted step
    t_in_check = false;
  }
  g_patterns.store(patterns, std::memory_order_relaxed);
  g_exclude.store(patterns != nullptr, std::memory_order_relaxed);
}

void exclude_gpu_library_allocations(bool on) { exclude_library_allocations(on ? kGpuLibraries : nullptr); }

}  // namespace gg::sweep
