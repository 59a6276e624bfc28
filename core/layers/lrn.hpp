#pragma once
// Local response normalisation across channels (Caffe's ACROSS_CHANNELS):
//   scale_c = k + alpha/size * sum_{c' in window(c)} x_c'^2,   y_c = x_c * scale_c^-beta
// window(c) = [c - (size-1)/2, c + (size-1)/2] clipped to the channels; size must be odd.
//
//   x, y, scale_ [n, h, w, c]
#include "core/layers/layer.hpp"

namespace gg {

struct LRNOptions {
  int size = 5;
  float alpha = 1e-4f;
  float beta = 0.75f;
  float k = 1.0f;
};

class LRN : public Layer {
 public:
  explicit LRN(LRNOptions opts);
  std::string kind() const override { return "lrn"; }
  Shape setup(std::span<const Shape> in) override;
  void forward(std::span<const Tensor* const> in, Tensor& out, const RunContext& ctx) override;
  void backward(std::span<const Tensor* const> in, const Tensor& out, const Tensor& dout,
                std::span<Tensor* const> din, const RunContext& ctx) override;

 private:
  LRNOptions o_;
  Shape in_{};
  Tensor scale_;  // [n, h, w, c] the scale_c of the last forward
  Tensor ratio_;  // [n, h, w, c] backward scratch: dy * y / scale

  GG_LAYER_CUDA
};

}  // namespace gg
