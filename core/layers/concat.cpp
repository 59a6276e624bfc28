#include "core/layers/concat.hpp"

#include <cstring>

#include "core/layers/layer_util.hpp"

namespace gg {

Shape Concat::setup(std::span<const Shape> in) {
  expect_inputs(*this, in, 2, std::size_t(-1));
  channels_.clear();
  total_ = 0;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i].n != in[0].n || in[i].h != in[0].h || in[i].w != in[0].w)
      layer_fail(*this, "input " + std::to_string(i) + " has shape " + in[i].str() +
                            ", input 0 has " + in[0].str() + " (n, h, w must match)");
    channels_.push_back(in[i].c);
    total_ += in[i].c;
  }
  return {in[0].n, in[0].h, in[0].w, total_};
}

void Concat::forward(std::span<const Tensor* const> in, Tensor& out, const RunContext& ctx) {
  if (in[0]->device() == Device::CUDA) return forward_cuda(in, out, ctx);
  const Shape s = in[0]->shape();
  out.resize({s.n, s.h, s.w, total_});
  const std::size_t pixels = std::size_t(s.n) * s.h * s.w;
  float* y = out.data();
  int offset = 0;
  for (std::size_t k = 0; k < in.size(); ++k) {
    const int c = channels_[k];
    const float* x = in[k]->data();
    for (std::size_t p = 0; p < pixels; ++p)
      std::memcpy(y + p * total_ + offset, x + p * c, sizeof(float) * c);
    offset += c;
  }
}

void Concat::backward(std::span<const Tensor* const> in, const Tensor& out, const Tensor& dout,
                      std::span<Tensor* const> din, const RunContext& ctx) {
  if (dout.device() == Device::CUDA) return backward_cuda(in, out, dout, din, ctx);
  const Shape s = dout.shape();
  const std::size_t pixels = std::size_t(s.n) * s.h * s.w;
  const float* g = dout.data();
  int offset = 0;
  for (std::size_t k = 0; k < in.size(); ++k) {
    const int c = channels_[k];
    Tensor* d = k < din.size() ? din[k] : nullptr;
    if (d) {
      d->resize(in[k]->shape());
      float* x = d->data();
      for (std::size_t p = 0; p < pixels; ++p)
        std::memcpy(x + p * c, g + p * total_ + offset, sizeof(float) * c);
    }
    offset += c;
  }
}

}  // namespace gg
