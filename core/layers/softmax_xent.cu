// The loss on the GPU: one block per sample computes the row's maximum and sum of exponentials, the
// sample's loss and its row of dlogits. The n per-sample losses come back and are summed on the host in
// double, as the CPU path sums.
#include "core/cuda/cuda_context.cuh"
#include "core/cuda/runtime.hpp"
#include "core/layers/softmax_xent.hpp"

namespace gg {

namespace {

constexpr int kThreads = 256;

// Block-wide reduction (max or sum) of one float per thread; every thread gets the result.
template <bool Max>
__device__ float block_reduce(float v, float* shared) {
  for (int o = 16; o > 0; o /= 2) {
    const float u = __shfl_down_sync(0xffffffffu, v, o);
    v = Max ? fmaxf(v, u) : v + u;
  }
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  if (lane == 0) shared[warp] = v;
  __syncthreads();
  if (warp == 0) {
    v = lane < kThreads / 32 ? shared[lane] : (Max ? -INFINITY : 0.0f);
    for (int o = 16; o > 0; o /= 2) {
      const float u = __shfl_down_sync(0xffffffffu, v, o);
      v = Max ? fmaxf(v, u) : v + u;
    }
    if (lane == 0) shared[0] = v;
  }
  __syncthreads();
  const float r = shared[0];
  __syncthreads();
  return r;
}

__global__ void xent_kernel(const float* __restrict logits, const std::int32_t* __restrict labels, int classes,
                            float inv_n, float* __restrict loss, float* __restrict dlogits) {
  __shared__ float shared[kThreads / 32];
  const float* z = logits + std::size_t(blockIdx.x) * classes;
  float mx = -INFINITY;
  for (int j = threadIdx.x; j < classes; j += kThreads) mx = fmaxf(mx, z[j]);
  mx = block_reduce<true>(mx, shared);
  float sum = 0.0f;
  for (int j = threadIdx.x; j < classes; j += kThreads) sum += expf(z[j] - mx);
  sum = block_reduce<false>(sum, shared);
  const int label = labels[blockIdx.x];
  if (threadIdx.x == 0) loss[blockIdx.x] = logf(sum) - (z[label] - mx);
  if (!dlogits) return;
  float* d = dlogits + std::size_t(blockIdx.x) * classes;
  const float inv_sum = 1.0f / sum;
  for (int j = threadIdx.x; j < classes; j += kThreads)
    d[j] = expf(z[j] - mx) * inv_sum * inv_n - (j == label ? inv_n : 0.0f);
}

}  // namespace

float softmax_xent_cuda(GpuContext& gpu, const Tensor& logits, std::span<const std::int32_t> labels,
                        Tensor* dlogits) {
  gpu.bind();
  const int n = logits.shape().n;
  if (n == 0) return 0.0f;
  const int classes = int(logits.shape().per_sample());
  if (dlogits) dlogits->resize(logits.shape());
  float* losses = gpu.scratch(std::size_t(n));
  const std::int32_t* dev_labels = gpu.labels(labels);
  xent_kernel<<<n, kThreads, 0, gpu.compute()>>>(logits.data(), dev_labels, classes, 1.0f / float(n), losses,
                                                 dlogits ? dlogits->data() : nullptr);
  GG_CUDA_LAUNCHED();
  const std::span<float> host = gpu.host_scratch(std::size_t(n));
  cuda::copy(host.data(), losses, host.size_bytes());  // waits for the kernel
  double total = 0.0;
  for (float l : host) total += double(l);
  return float(total / n);
}

}  // namespace gg
