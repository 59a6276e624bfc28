#pragma once
// The complete GpuContext (declared in core/cuda/gpu_context.hpp), for CUDA sources.
//
// Streams: `compute` runs every layer, the loss and the optimizer; `comm` runs communication (NCCL)
// and waits on events recorded on `compute`, so a bucket's exchange starts when its gradients are
// final without the host blocking mid-backward. Both are blocking streams: synchronous cudaMemcpy on
// the legacy stream (core/cuda/runtime.hpp) is ordered after them, which keeps host copies simple.
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <vector>

#include "core/cuda/cuda_check.cuh"
#include "core/cuda/gpu_context.hpp"
#include "core/tensor/shape.hpp"

namespace gg {

class GpuContext {
 public:
  explicit GpuContext(const GpuOptions& options);
  ~GpuContext();
  GpuContext(const GpuContext&) = delete;
  GpuContext& operator=(const GpuContext&) = delete;

  const GpuOptions& options() const { return options_; }
  cudaStream_t compute() const { return compute_; }
  cudaStream_t comm() const { return comm_; }
  cublasHandle_t blas() const { return blas_; }
  cudnnHandle_t dnn() const { return dnn_; }
  // cuDNN math for convolutions: default (TF32 allowed) or FMA only (options().tf32).
  cudnnMathType_t conv_math() const { return options_.tf32 ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH; }

  // The convolution workspace, grown to the largest request (at set-up: the first pass of each shape).
  void* workspace(std::size_t bytes);
  std::size_t workspace_limit() const { return workspace_limit_; }
  // Labels on the device for the loss: copies n int32 into a buffer kept across steps.
  const std::int32_t* labels(std::span<const std::int32_t> host);
  // A device float buffer of at least n elements kept across steps (per-sample losses, counters).
  float* scratch(std::size_t n);
  // A host float buffer of n elements kept across steps (results copied back, e.g. per-sample losses).
  std::span<float> host_scratch(std::size_t n) {
    if (host_scratch_.size() < n) host_scratch_.resize(n);
    return {host_scratch_.data(), n};
  }
  // Timing event i, created on first use.
  cudaEvent_t event(std::size_t i);
  // Ordering event i (no timing: cheaper to record and query), created on first use.
  cudaEvent_t sync_event(std::size_t i);
  // Makes this context's device the calling thread's current device (rank threads other than the one
  // that built the context would otherwise launch on device 0). Cheap when it already is.
  void bind() const {
    int current = -1;
    if (cudaGetDevice(&current) != cudaSuccess || current != options_.device)
      GG_CUDA_CHECK(cudaSetDevice(options_.device));
  }
  // Results shared by every layer on this context, keyed by a shape (cuDNN's algorithm search per
  // distinct convolution shape rather than per layer instance); null on first use, then what was stored.
  std::shared_ptr<void>& shared_result(const std::vector<long>& key) { return shared_results_[key]; }

 private:
  GpuOptions options_;
  cudaStream_t compute_ = nullptr, comm_ = nullptr;
  cublasHandle_t blas_ = nullptr;
  cudnnHandle_t dnn_ = nullptr;
  void* workspace_ = nullptr;
  std::size_t workspace_bytes_ = 0, workspace_limit_ = 0;
  std::int32_t* labels_ = nullptr;
  std::size_t labels_cap_ = 0;
  float* scratch_ = nullptr;
  std::size_t scratch_cap_ = 0;
  std::vector<cudaEvent_t> events_, sync_events_;
  std::vector<float> host_scratch_;
  std::map<std::vector<long>, std::shared_ptr<void>> shared_results_;
};

namespace cuda {

// cudaEventQuery / cudaStreamQuery without the sticky trap: cudaErrorNotReady is not an error, but the
// runtime still records it as the thread's last error, so the next cudaGetLastError() after a kernel
// launch (GG_CUDA_LAUNCHED) would report "device not ready". Consumes it (as PyTorch does after every
// query) and returns false; any other failure throws with `call` and the site.
inline bool query_done(cudaError_t e, const char* call, const char* file, int line) {
  if (e == cudaErrorNotReady) {
    (void)cudaGetLastError();
    return false;
  }
  check(e, call, file, line);
  return true;
}

}  // namespace cuda

#define GG_CUDA_DONE(call) ::gg::cuda::query_done((call), #call, __FILE__, __LINE__)

// RAII cuDNN descriptors. NHWC activations are described as cuDNN's NHWC format.
struct TensorDesc {
  cudnnTensorDescriptor_t d = nullptr;
  TensorDesc() { GG_CUDA_CHECK(cudnnCreateTensorDescriptor(&d)); }
  ~TensorDesc() { cudnnDestroyTensorDescriptor(d); }
  TensorDesc(const TensorDesc&) = delete;
  TensorDesc& operator=(const TensorDesc&) = delete;
  // [n, h, w, c] in NHWC order. Set only when the shape changes: a step with a fixed batch makes no
  // cuDNN descriptor call (which may allocate inside cuDNN) after the first.
  // Returns whether it changed the descriptor.
  bool nhwc(const Shape& s) {
    if (set_ && s == shape_) return false;
    GG_CUDA_CHECK(cudnnSetTensor4dDescriptor(d, CUDNN_TENSOR_NHWC, CUDNN_DATA_FLOAT, s.n, s.c, s.h, s.w));
    shape_ = s;
    set_ = true;
    return true;
  }
  // A per-channel vector [1, 1, 1, c] (bias, batch-norm scale).
  bool channels(int c) { return nhwc({1, 1, 1, c}); }

 private:
  Shape shape_{};
  bool set_ = false;
};

// A grid-stride loop over n items: for (std::size_t i = grid_first(); i < n; i += grid_stride()).
__device__ inline std::size_t grid_first() { return blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; }
__device__ inline std::size_t grid_stride() { return std::size_t(gridDim.x) * blockDim.x; }

// Launch geometry for an elementwise kernel over n items.
inline unsigned blocks_for(std::size_t n, unsigned threads = 256) {
  const std::size_t b = (n + threads - 1) / threads;
  return unsigned(b < 65535u * 8 ? (b ? b : 1) : 65535u * 8);
}

}  // namespace gg
