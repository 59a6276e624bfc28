#pragma once
// Channel concatenation of 2+ inputs with identical n, h, w (Inception-style branches).
//
//   x_i [n, h, w, c_i] -> y [n, h, w, sum c_i]; per pixel, y = [x_0 | x_1 | ...]
#include <vector>

#include "core/layers/layer.hpp"

namespace gg {

class Concat : public Layer {
 public:
  std::string kind() const override { return "concat"; }
  Shape setup(std::span<const Shape> in) override;
  void forward(std::span<const Tensor* const> in, Tensor& out, const RunContext& ctx) override;
  void backward(std::span<const Tensor* const> in, const Tensor& out, const Tensor& dout,
                std::span<Tensor* const> din, const RunContext& ctx) override;

 private:
  std::vector<int> channels_;  // c_i of each input
  int total_ = 0;              // sum of c_i

  GG_LAYER_CUDA
};

}  // namespace gg
