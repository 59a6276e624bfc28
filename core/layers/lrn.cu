// LRN across channels on NHWC activations: channels are contiguous, so each output reads a window of
// one pixel's row. A small kernel (cuDNN's LRN expects NCHW); the formulas are the CPU layer's.
#include "core/layers/cuda_layer.cuh"
#include "core/layers/lrn.hpp"

namespace gg {

namespace {

// Sum over channel j's window of row[t] (squared if Square); row is one pixel's c channels.
template <bool Square>
__device__ float window_sum(const float* row, int j, int c, int half) {
  const int lo = max(0, j - half), hi = min(c - 1, j + half);
  float sum = 0.0f;
  for (int t = lo; t <= hi; ++t) sum += Square ? row[t] * row[t] : row[t];
  return sum;
}

// scale = k + alpha/size * sum_{window} x^2;  y = x * scale^-beta
__global__ void lrn_forward_kernel(const float* __restrict x, float* __restrict y, float* __restrict scale,
                                   std::size_t count, int c, int half, float a, float k, float beta) {
  for (std::size_t i = grid_first(); i < count; i += grid_stride()) {
    const int j = int(i % std::size_t(c));
    const float s = k + a * window_sum<true>(x + (i - j), j, c, half);
    scale[i] = s;
    y[i] = x[i] * powf(s, -beta);
  }
}

// ratio = dy * y / scale
__global__ void lrn_ratio_kernel(const float* __restrict dy, const float* __restrict y,
                                 const float* __restrict scale, float* __restrict ratio, std::size_t count) {
  for (std::size_t i = grid_first(); i < count; i += grid_stride())
    ratio[i] = dy[i] * y[i] / scale[i];
}

// dx = dy * scale^-beta - coef * x * sum_{window} ratio
__global__ void lrn_backward_kernel(const float* __restrict x, const float* __restrict dy,
                                    const float* __restrict scale, const float* __restrict ratio,
                                    float* __restrict dx, std::size_t count, int c, int half, float coef,
                                    float beta) {
  for (std::size_t i = grid_first(); i < count; i += grid_stride()) {
    const int j = int(i % std::size_t(c));
    dx[i] = dy[i] * powf(scale[i], -beta) - coef * x[i] * window_sum<false>(ratio + (i - j), j, c, half);
  }
}

}  // namespace

void LRN::forward_cuda(std::span<const Tensor* const> in, Tensor& out, const RunContext& ctx) {
  GpuContext& gpu = gpu_of(*this, ctx);
  const Tensor& x = *in[0];
  out.resize(x.shape());
  device_like(scale_, x.shape());
  const std::size_t count = x.size();
  lrn_forward_kernel<<<blocks_for(count), 256, 0, gpu.compute()>>>(x.data(), out.data(), scale_.data(), count,
                                                                    in_.c, (o_.size - 1) / 2,
                                                                    o_.alpha / float(o_.size), o_.k, o_.beta);
  GG_CUDA_LAUNCHED();
}

void LRN::backward_cuda(std::span<const Tensor* const> in, const Tensor& out, const Tensor& dout,
                        std::span<Tensor* const> din, const RunContext& ctx) {
  Tensor* dx = din.empty() ? nullptr : din[0];
  if (!dx) return;
  GpuContext& gpu = gpu_of(*this, ctx);
  const Tensor& x = *in[0];
  dx->resize(x.shape());
  device_like(ratio_, x.shape());
  const std::size_t count = x.size();
  lrn_ratio_kernel<<<blocks_for(count), 256, 0, gpu.compute()>>>(dout.data(), out.data(), scale_.data(),
                                                                  ratio_.data(), count);
  GG_CUDA_LAUNCHED();
  const float coef = 2.0f * o_.alpha * o_.beta / float(o_.size);
  lrn_backward_kernel<<<blocks_for(count), 256, 0, gpu.compute()>>>(x.data(), dout.data(), scale_.data(),
                                                                     ratio_.data(), dx->data(), count, in_.c,
                                                                     (o_.size - 1) / 2, coef, o_.beta);
  GG_CUDA_LAUNCHED();
}

}  // namespace gg
