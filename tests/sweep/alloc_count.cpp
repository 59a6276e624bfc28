// Counting operator new for this executable (test instrumentation): one counter per thread.
#include "tests/sweep/alloc_count.hpp"

#include <cstdlib>
#include <new>

namespace {
thread_local long t_news = 0;
}

void* operator new(std::size_t n) {
  ++t_news;
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) {
  ++t_news;
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

namespace gg::sweep {

long thread_allocations() { return t_news; }

}  // namespace gg::sweep
