#include "core/layers/dropout.hpp"

#include <cstring>

#include "core/layers/layer_util.hpp"

namespace gg {

Dropout::Dropout(DropoutOptions opts) : o_(opts) {}

Shape Dropout::setup(std::span<const Shape> in) {
  expect_inputs(*this, in, 1, 1);
  if (!(o_.rate >= 0.0f && o_.rate < 1.0f))
    layer_fail(*this, "rate must be in [0, 1), got " + std::to_string(o_.rate));
  return in[0];
}

void Dropout::forward(std::span<const Tensor* const> in, Tensor& out, const RunContext& ctx) {
  if (in[0]->device() == Device::CUDA) return forward_cuda(in, out, ctx);
  const Tensor& x = *in[0];
  out.resize(x.shape());
  const std::size_t count = x.size();
  if (ctx.phase == Phase::Eval || o_.rate == 0.0f) {
    if (out.data() != x.data()) std::memcpy(out.data(), x.data(), sizeof(float) * count);
    return;
  }
  mask_.resize(x.shape());
  Rng rng(seed_of(ctx.step_seed, std::uint64_t(index())));
  const float keep = 1.0f / (1.0f - o_.rate), rate = o_.rate;
  float* m = mask_.data();
  for (std::size_t i = 0; i < count; ++i) m[i] = rng.uniform() >= rate ? keep : 0.0f;
  const float* xs = x.data();
  float* ys = out.data();
  for (std::size_t i = 0; i < count; ++i) ys[i] = xs[i] * m[i];
}

void Dropout::backward(std::span<const Tensor* const> in, const Tensor& out, const Tensor& dout,
                       std::span<Tensor* const> din, const RunContext& ctx) {
  if (dout.device() == Device::CUDA) return backward_cuda(in, out, dout, din, ctx);
  Tensor* dx = din.empty() ? nullptr : din[0];
  if (!dx) return;
  dx->resize(dout.shape());
  const std::size_t count = dout.size();
  if (ctx.phase == Phase::Eval || o_.rate == 0.0f) {
    if (dx->data() != dout.data()) std::memcpy(dx->data(), dout.data(), sizeof(float) * count);
    return;
  }
  const float* m = mask_.data();
  const float* g = dout.data();
  float* d = dx->data();
  for (std::size_t i = 0; i < count; ++i) d[i] = g[i] * m[i];
}

}  // namespace gg
