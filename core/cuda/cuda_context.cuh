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
};

// RAII cuDNN descriptors. NHWC activations are described as cuDNN's NHWC format.
struct TensorDesc {
  cudnnTensorDescriptor_t d = nullptr;
  TensorDesc() { GG_CUDA_CHECK(cudnnCreateTensorDescriptor(&d)); }
  ~TensorDesc() { cudnnDestroyTensorDescriptor(d); }
  TensorDesc(const TensorDesc&) = delete;
  TensorDesc& operator=(const TensorDesc&) = delete;
  // [n, h, w, c] in NHWC order.
  void nhwc(const Shape& s) {
    GG_CUDA_CHECK(cudnnSetTensor4dDescriptor(d, CUDNN_TENSOR_NHWC, CUDNN_DATA_FLOAT, s.n, s.c, s.h, s.w));
  }
  // A per-channel vector [1, 1, 1, c] (bias, batch-norm scale).
  void channels(int c) { nhwc({1, 1, 1, c}); }
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
