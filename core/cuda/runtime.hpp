#pragma once
// The CUDA runtime as the rest of the engine sees it: plain C++, no CUDA headers. core/cuda/runtime.cu
// defines it in a CUDA build, core/cuda/absent/runtime.cpp otherwise (cmake/cuda.cmake picks one).
//
// Memory functions are synchronous with the host and ordered after all work queued on blocking
// streams (the engine's compute streams are blocking streams: core/cuda/cuda_context.cuh).
#include <cstddef>
#include <span>
#include <string>
#include <utility>

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

// Versions of the CUDA pieces this process loaded, as integers in each library's own encoding (driver
// and runtime: 1000 * major + 10 * minor; cuDNN: 10000 * major + 100 * minor + patch from 9.0; NCCL:
// 10000 * major + 100 * minor + patch; cuBLAS: 10000 * major + 100 * minor + patch). 0: not known (no
// driver, or a build without CUDA). Never throws; works without a GPU.
struct LibraryVersions {
  int driver = 0, runtime = 0, cudnn = 0, cudnn_cudart = 0, cublas = 0, nccl = 0;
};
LibraryVersions library_versions();

// Device memory. allocate() throws ResourceError naming `what` and the size when the GPU is full.
void* allocate(std::size_t bytes, const std::string& what);
void release(void* p) noexcept;
// Any direction (host or device pointers, unified addressing); synchronous.
void copy(void* dst, const void* src, std::size_t bytes);
void zero(void* p, std::size_t bytes);

// Page-locked host memory: copies between it and the GPU run asynchronously (a pageable buffer makes
// the driver stage the copy while the host waits). Throws like allocate().
void* allocate_pinned(std::size_t bytes, const std::string& what);
void release_pinned(void* p) noexcept;

// n floats of page-locked host memory, zeroed; move-only.
class PinnedFloats {
 public:
  PinnedFloats() = default;
  PinnedFloats(std::size_t n, const std::string& what)
      : p_(static_cast<float*>(allocate_pinned(n * sizeof(float), what))), n_(n) {
    for (std::size_t i = 0; i < n; ++i) p_[i] = 0.0f;
  }
  PinnedFloats(PinnedFloats&& o) noexcept : p_(std::exchange(o.p_, nullptr)), n_(std::exchange(o.n_, 0)) {}
  PinnedFloats& operator=(PinnedFloats&& o) noexcept {
    if (this != &o) {
      release_pinned(p_);
      p_ = std::exchange(o.p_, nullptr);
      n_ = std::exchange(o.n_, 0);
    }
    return *this;
  }
  ~PinnedFloats() { release_pinned(p_); }
  float* data() const { return p_; }
  std::size_t size() const { return n_; }
  std::span<float> span() const { return {p_, n_}; }

 private:
  float* p_ = nullptr;
  std::size_t n_ = 0;
};

}  // namespace gg::cuda
