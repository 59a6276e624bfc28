#pragma once
// Rectified linear unit, elementwise: y = max(x, 0), dx = dy where x > 0.
#include "core/layers/layer.hpp"

namespace gg {

class ReLU : public Layer {
 public:
  std::string kind() const override { return "relu"; }
  Shape setup(std::span<const Shape> in) override;
  void forward(std::span<const Tensor* const> in, Tensor& out, const RunContext& ctx) override;
  void backward(std::span<const Tensor* const> in, const Tensor& out, const Tensor& dout,
                std::span<Tensor* const> din, const RunContext& ctx) override;

  GG_LAYER_CUDA
};

}  // namespace gg
