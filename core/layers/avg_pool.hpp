#pragma once
// Average pooling over square windows (floor rounding), or over the whole h*w with `global`.
// Padded cells count as zeros: every output divides by kernel*kernel, as Caffe does when the
// window never overhangs the padded input (always true with floor rounding).
//
//   x [n, h, w, c] -> y [n, oh, ow, c]   (global: y [n, 1, 1, c])
#include "core/layers/layer.hpp"

namespace gg {

struct AvgPoolOptions {
  int kernel = 2;
  int stride = 2;
  int pad = 0;
  bool global = false;  // kernel = the whole input, stride 1, pad 0
};

class AvgPool : public Layer {
 public:
  explicit AvgPool(AvgPoolOptions opts);
  std::string kind() const override { return "avg_pool"; }
  Shape setup(std::span<const Shape> in) override;
  void forward(std::span<const Tensor* const> in, Tensor& out, const RunContext& ctx) override;
  void backward(std::span<const Tensor* const> in, const Tensor& out, const Tensor& dout,
                std::span<Tensor* const> din, const RunContext& ctx) override;

 private:
  AvgPoolOptions o_;
  int kh_ = 0, kw_ = 0, stride_ = 1, pad_ = 0;  // resolved window (global: kh = h, kw = w)
  Shape in_{}, out_{};

  GG_LAYER_CUDA
};

}  // namespace gg
