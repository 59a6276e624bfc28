#pragma once
// Max pooling over square windows (floor rounding; padded cells never win). The argmax of every
// output is remembered so backward routes each gradient to exactly one input element.
//
//   x [n, h, w, c] -> y [n, oh, ow, c]; argmax_ [n*oh*ow*c] = index into x
#include <cstdint>
#include <vector>

#include "core/layers/layer.hpp"

namespace gg {

struct MaxPoolOptions {
  int kernel = 2;
  int stride = 2;
  int pad = 0;
};

class MaxPool : public Layer {
 public:
  explicit MaxPool(MaxPoolOptions opts);
  std::string kind() const override { return "max_pool"; }
  Shape setup(std::span<const Shape> in) override;
  void forward(std::span<const Tensor* const> in, Tensor& out, const RunContext& ctx) override;
  void backward(std::span<const Tensor* const> in, const Tensor& out, const Tensor& dout,
                std::span<Tensor* const> din, const RunContext& ctx) override;

 private:
  MaxPoolOptions o_;
  Shape in_{}, out_{};
  std::vector<std::int32_t> argmax_;  // [n*oh*ow*c] per-sample offset into x

  GG_LAYER_CUDA
};

}  // namespace gg
