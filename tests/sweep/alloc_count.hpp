#pragma once
// This test executable replaces operator new to count allocations per thread (alloc_count.cpp), so a
// rank running as a thread can check that its per-step path allocates nothing.
namespace gg::sweep {

long thread_allocations();  // operator new calls made by the calling thread so far

}  // namespace gg::sweep
