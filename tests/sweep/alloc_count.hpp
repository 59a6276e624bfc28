#pragma once
// This test executable replaces operator new to count allocations per thread (alloc_count.cpp), so a
// rank running as a thread can check that its per-step path allocates nothing.
namespace gg::sweep {

long thread_allocations();  // operator new calls made by the calling thread so far (the engine's)

// GPU-hosted ranks: allocations made inside cuDNN, cuBLAS, NCCL, the CUDA runtime or CUPTI (a frame of
// one of them on the call stack) are not the engine's: with this on they are counted apart, by
// gpu_library_allocations(), and thread_allocations() leaves them out. For GpuSweep only (it walks the
// stack of every allocation while on).
void exclude_gpu_library_allocations(bool on);
long gpu_library_allocations();  // the calling thread's allocations counted apart so far
// The same for any libraries: a null-terminated list of file-name prefixes ("libcudnn"), or null for off.
// The list must outlive its use. For this exclusion's own test.
void exclude_library_allocations(const char* const* patterns);

}  // namespace gg::sweep
