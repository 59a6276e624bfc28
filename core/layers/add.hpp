#pragma once
// Elementwise sum of 2+ inputs of identical shape (residual connections). Backward copies dy to
// every input that wants a gradient.
#include "core/layers/layer.hpp"

namespace gg {

class Add : public Layer {
 public:
  std::string kind() const override { return "add"; }
  Shape setup(std::span<const Shape> in) override;
  void forward(std::span<const Tensor* const> in, Tensor& out, const RunContext& ctx) override;
  void backward(std::span<const Tensor* const> in, const Tensor& out, const Tensor& dout,
                std::span<Tensor* const> din, const RunContext& ctx) override;

  GG_LAYER_CUDA
};

}  // namespace gg
