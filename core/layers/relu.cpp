#include "core/layers/relu.hpp"

#include "core/layers/layer_util.hpp"

namespace gg {

Shape ReLU::setup(std::span<const Shape> in) {
  expect_inputs(*this, in, 1, 1);
  return in[0];
}

void ReLU::forward(std::span<const Tensor* const> in, Tensor& out, const RunContext& ctx) {
  if (in[0]->device() == Device::CUDA) return forward_cuda(in, out, ctx);
  const Tensor& x = *in[0];
  out.resize(x.shape());
  const std::size_t count = x.size();
  const float* xs = x.data();
  float* ys = out.data();
#pragma omp parallel for simd schedule(static) if(count >= kParallelMin)
  for (std::size_t i = 0; i < count; ++i) ys[i] = xs[i] > 0.0f ? xs[i] : 0.0f;
}

void ReLU::backward(std::span<const Tensor* const> in, const Tensor& out, const Tensor& dout,
                    std::span<Tensor* const> din, const RunContext& ctx) {
  if (dout.device() == Device::CUDA) return backward_cuda(in, out, dout, din, ctx);
  Tensor* dx = din.empty() ? nullptr : din[0];
  if (!dx) return;
  const Tensor& x = *in[0];
  dx->resize(x.shape());
  const std::size_t count = x.size();
  const float* xs = x.data();
  const float* dy = dout.data();
  float* d = dx->data();
#pragma omp parallel for simd schedule(static) if(count >= kParallelMin)
  for (std::size_t i = 0; i < count; ++i) d[i] = xs[i] > 0.0f ? dy[i] : 0.0f;
}

}  // namespace gg
