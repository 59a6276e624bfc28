#pragma once
// The CUDA runtime as the rest of the engine sees it: plain C++, no CUDA headers. core/cuda/runtime.cu
// defines it in a CUDA build, core/cuda/absent/runtime.cpp otherwise (cmake/cuda.cmake picks one).
//
// Memory functions are synchronous with the host and ordered after all work queued on blocking
// streams (the engine's compute streams are blocking streams: core/cuda/cuda_context.cuh).
#include <cstddef>
#include <string>

namespace gg::cuda {

// True when this binary carries the CUDA backend.
bool built();
// GPUs this process can use; 0 without the backend or without a usable driver/device. Never throws.
int device_count();
// Why device_count() is 0, in one line ("this binary was built without CUDA", "no CUDA device: ...");
// empty when a GPU is visible.
std::string unavailable();
// "NVIDIA H200 (sm_90, 139.8 GiB)"; throws InputError without a device.
std::string device_name(int device);

// Device memory. allocate() throws ResourceError naming `what` and the size when the GPU is full.
void* allocate(std::size_t bytes, const std::string& what);
void release(void* p) noexcept;
// Any direction (host or device pointers, unified addressing); synchronous.
void copy(void* dst, const void* src, std::size_t bytes);
void zero(void* p, std::size_t bytes);

}  // namespace gg::cuda
