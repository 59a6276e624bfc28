// Dropout on the GPU with the CPU layer's mask: drawn on the host from the same seed (one uniform per
// element, seed_of(step_seed, layer index)), uploaded, applied by a small kernel. Identical masks keep
// GPU and CPU runs comparable step by step; the upload is n*h*w*c floats per Train forward.
#include <vector>

#include "core/layers/cuda_layer.cuh"
#include "core/layers/dropout.hpp"

namespace gg {

namespace {

struct DropoutCuda {
  std::vector<float> host_mask;
};

__global__ void multiply_kernel(const float* __restrict a, const float* __restrict m, float* __restrict y,
                                std::size_t count) {
  for (std::size_t i = grid_first(); i < count; i += grid_stride())
    y[i] = a[i] * m[i];
}

}  // namespace

void Dropout::forward_cuda(std::span<const Tensor* const> in, Tensor& out, const RunContext& ctx) {
  GpuContext& gpu = gpu_of(*this, ctx);
  const Tensor& x = *in[0];
  out.resize(x.shape());
  const std::size_t count = x.size();
  if (ctx.phase == Phase::Eval || o_.rate == 0.0f) {
    gpu_copy(gpu, out.data(), x.data(), count);
    return;
  }
  DropoutCuda& s = cuda_state<DropoutCuda>(cuda_);
  s.host_mask.resize(count);
  Rng rng(seed_of(ctx.step_seed, std::uint64_t(index())));
  const float keep = 1.0f / (1.0f - o_.rate), rate = o_.rate;
  for (std::size_t i = 0; i < count; ++i) s.host_mask[i] = rng.uniform() >= rate ? keep : 0.0f;
  device_like(mask_, x.shape());
  gpu_upload(gpu, mask_.data(), s.host_mask.data(), count);
  multiply_kernel<<<blocks_for(count), 256, 0, gpu.compute()>>>(x.data(), mask_.data(), out.data(), count);
  GG_CUDA_LAUNCHED();
}

void Dropout::backward_cuda(std::span<const Tensor* const> in, const Tensor& out, const Tensor& dout,
                            std::span<Tensor* const> din, const RunContext& ctx) {
  Tensor* dx = din.empty() ? nullptr : din[0];
  if (!dx) return;
  GpuContext& gpu = gpu_of(*this, ctx);
  dx->resize(dout.shape());
  const std::size_t count = dout.size();
  if (ctx.phase == Phase::Eval || o_.rate == 0.0f) {
    gpu_copy(gpu, dx->data(), dout.data(), count);
    return;
  }
  multiply_kernel<<<blocks_for(count), 256, 0, gpu.compute()>>>(dout.data(), mask_.data(), dx->data(), count);
  GG_CUDA_LAUNCHED();
}

}  // namespace gg
