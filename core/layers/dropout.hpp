#pragma once
// Inverted dropout: in Train each element is kept with probability 1 - rate and scaled by
// 1/(1 - rate); Eval is the identity. The mask comes from Rng(seed_of(ctx.step_seed, index())), so
// a step's mask depends only on its seed and the layer's position.
//
//   x, y, mask_ [n, h, w, c]   mask_ holds 0 or 1/(1 - rate)
#include "core/layers/layer.hpp"

namespace gg {

struct DropoutOptions {
  float rate = 0.5f;  // in [0, 1)
};

class Dropout : public Layer {
 public:
  explicit Dropout(DropoutOptions opts);
  std::string kind() const override { return "dropout"; }
  Shape setup(std::span<const Shape> in) override;
  void forward(std::span<const Tensor* const> in, Tensor& out, const RunContext& ctx) override;
  void backward(std::span<const Tensor* const> in, const Tensor& out, const Tensor& dout,
                std::span<Tensor* const> din, const RunContext& ctx) override;

 private:
  DropoutOptions o_;
  Tensor mask_;  // [n, h, w, c] of the last Train forward

  GG_LAYER_CUDA
};

}  // namespace gg
