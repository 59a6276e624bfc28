#include "core/layers/add.hpp"

#include <cstring>

#include "core/layers/layer_util.hpp"

namespace gg {

Shape Add::setup(std::span<const Shape> in) {
  expect_inputs(*this, in, 2, std::size_t(-1));
  for (std::size_t i = 1; i < in.size(); ++i)
    if (!(in[i] == in[0]))
      layer_fail(*this, "input " + std::to_string(i) + " has shape " + in[i].str() +
                            ", input 0 has " + in[0].str());
  return in[0];
}

void Add::forward(std::span<const Tensor* const> in, Tensor& out, const RunContext& ctx) {
  if (in[0]->device() == Device::CUDA) return forward_cuda(in, out, ctx);
  out.resize(in[0]->shape());
  const std::size_t count = out.size();
  float* y = out.data();
  const float* a = in[0]->data();
  const float* b = in[1]->data();
#pragma omp parallel for simd schedule(static) if(count >= kParallelMin)
  for (std::size_t i = 0; i < count; ++i) y[i] = a[i] + b[i];
  for (std::size_t k = 2; k < in.size(); ++k) {
    const float* c = in[k]->data();
#pragma omp parallel for simd schedule(static) if(count >= kParallelMin)
    for (std::size_t i = 0; i < count; ++i) y[i] += c[i];
  }
}

void Add::backward(std::span<const Tensor* const> in, const Tensor& out, const Tensor& dout,
                   std::span<Tensor* const> din, const RunContext& ctx) {
  if (dout.device() == Device::CUDA) return backward_cuda(in, out, dout, din, ctx);
  for (Tensor* d : din) {
    if (!d) continue;
    d->resize(dout.shape());
    if (d->data() != dout.data()) std::memcpy(d->data(), dout.data(), sizeof(float) * dout.size());
  }
}

}  // namespace gg
