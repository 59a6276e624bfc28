// kernel_time.hpp on CUPTI's activity API: kernel, memcpy and memset records are delivered in buffers
// this file hands to CUPTI and summed when CUPTI returns them.
#include "experiments/gpu_check/kernel_time.hpp"

#include <cupti.h>

#include <cstdlib>
#include <mutex>
#include <stdexcept>
#include <string_view>

namespace gg {

namespace {

// CUPTI's buffer callbacks are plain C functions without a user pointer, so the window being recorded
// is reached through this one pointer (set by start(), cleared by stop(); one window at a time).
std::mutex sink_mutex;
KernelTimes* sink = nullptr;

constexpr std::size_t kBufferBytes = 4 << 20;

void CUPTIAPI buffer_requested(uint8_t** buffer, size_t* size, size_t* max_records) {
  *buffer = static_cast<uint8_t*>(std::aligned_alloc(8, kBufferBytes));
  *size = *buffer ? kBufferBytes : 0;
  *max_records = 0;  // as many as fit
}

// Kernels compiled into the engine live in namespace gg (mangled "_ZN2gg...", or "void gg::..." when
// CUPTI reports the demangled name).
bool engine_kernel(std::string_view name) {
  if (name.starts_with("_ZN2gg")) return true;
  const auto at = name.find("gg::");
  return at != std::string_view::npos && (at == 0 || name[at - 1] == ' ');
}

void CUPTIAPI buffer_completed(CUcontext, uint32_t, uint8_t* buffer, size_t, size_t valid) {
  {
    std::lock_guard<std::mutex> lock(sink_mutex);
    CUpti_Activity* record = nullptr;
    while (sink && cuptiActivityGetNextRecord(buffer, valid, &record) == CUPTI_SUCCESS) {
      switch (record->kind) {
        case CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL:
        case CUPTI_ACTIVITY_KIND_KERNEL: {
          const auto* k = reinterpret_cast<const CUpti_ActivityKernel10*>(record);
          const double s = double(k->end - k->start) * 1e-9;
          if (engine_kernel(k->name ? k->name : "")) {
            sink->own_s += s;
            ++sink->own_kernels;
          } else {
            sink->library_s += s;
            ++sink->library_kernels;
          }
          break;
        }
        case CUPTI_ACTIVITY_KIND_MEMCPY: {
          const auto* m = reinterpret_cast<const CUpti_ActivityMemcpy6*>(record);
          sink->copy_s += double(m->end - m->start) * 1e-9;
          break;
        }
        case CUPTI_ACTIVITY_KIND_MEMSET: {
          const auto* m = reinterpret_cast<const CUpti_ActivityMemset4*>(record);
          sink->copy_s += double(m->end - m->start) * 1e-9;
          break;
        }
        default:
          break;
      }
    }
  }
  std::free(buffer);
}

std::string cupti_error(const char* call, CUptiResult r) {
  const char* text = nullptr;
  cuptiGetResultString(r, &text);
  return std::string("CUPTI ") + call + ": " + (text ? text : "error " + std::to_string(int(r)));
}

constexpr CUpti_ActivityKind kKinds[] = {CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL, CUPTI_ACTIVITY_KIND_MEMCPY,
                                         CUPTI_ACTIVITY_KIND_MEMSET};

}  // namespace

struct KernelTimer::Impl {
  std::string why;
  KernelTimes times;
  bool recording = false;
};

KernelTimer::KernelTimer() : impl_(std::make_unique<Impl>()) {
  // The callbacks are registered once per process (CUPTI keeps them), whatever the number of timers.
  static const std::string registered = [] {
    const CUptiResult r = cuptiActivityRegisterCallbacks(buffer_requested, buffer_completed);
    return r == CUPTI_SUCCESS ? std::string() : cupti_error("cuptiActivityRegisterCallbacks", r);
  }();
  impl_->why = registered;
}

KernelTimer::~KernelTimer() {
  if (!impl_->recording) return;
  for (CUpti_ActivityKind k : kKinds) cuptiActivityDisable(k);
  std::lock_guard<std::mutex> lock(sink_mutex);
  sink = nullptr;
}

const std::string& KernelTimer::unavailable() const { return impl_->why; }

void KernelTimer::start() {
  if (!impl_->why.empty()) throw std::logic_error("KernelTimer: " + impl_->why);
  {
    std::lock_guard<std::mutex> lock(sink_mutex);
    if (sink) throw std::logic_error("KernelTimer: another window is being recorded");
    impl_->times = {};
    sink = &impl_->times;
  }
  for (CUpti_ActivityKind k : kKinds)
    if (const CUptiResult r = cuptiActivityEnable(k); r != CUPTI_SUCCESS) throw std::runtime_error(cupti_error("cuptiActivityEnable", r));
  impl_->recording = true;
}

KernelTimes KernelTimer::stop() {
  if (!impl_->recording) throw std::logic_error("KernelTimer::stop without start");
  for (CUpti_ActivityKind k : kKinds) cuptiActivityDisable(k);
  impl_->recording = false;
  const CUptiResult r = cuptiActivityFlushAll(CUPTI_ACTIVITY_FLAG_FLUSH_FORCED);
  std::lock_guard<std::mutex> lock(sink_mutex);
  sink = nullptr;
  if (r != CUPTI_SUCCESS) throw std::runtime_error(cupti_error("cuptiActivityFlushAll", r));
  return impl_->times;
}

}  // namespace gg
