#pragma once
// Fully connected layer. Any input [n, h, w, c] is read as [n, F] with F = h*w*c (implicit flatten).
//
//   x [n, F]   W [out, F]   b [out]   y [n, 1, 1, out] = x * W^T + b
// Threads take chunks of 64 features (core/layers/thread_split.hpp).
#include <vector>

#include "core/layers/layer.hpp"

namespace gg {

struct DenseOptions {
  int out = 1;
  bool bias = true;
  Init init = Init::Kaiming;  // weights: Kaiming (He) or Xavier (Glorot), as Caffe's "xavier" filler
};

class Dense : public Layer {
 public:
  explicit Dense(DenseOptions opts);
  std::string kind() const override { return "dense"; }
  Shape setup(std::span<const Shape> in) override;
  std::vector<ParamSpec> params() const override;
  void bind(std::span<const std::span<float>> weights, std::span<const std::span<float>> grads) override;
  void forward(std::span<const Tensor* const> in, Tensor& out, const RunContext& ctx) override;
  void backward(std::span<const Tensor* const> in, const Tensor& out, const Tensor& dout,
                std::span<Tensor* const> din, const RunContext& ctx) override;
  double forward_flops_per_sample() const override { return 2.0 * double(F_) * o_.out; }

 private:
  // The threads take chunks of this many output (forward, dW) or input (dx) features (thread_split.hpp).
  static constexpr int kChunk = 64;

  DenseOptions o_;
  int F_ = 0;            // input features per sample
  float* w_ = nullptr;   // [out, F]
  float* b_ = nullptr;   // [out] (null without bias)
  float* dw_ = nullptr;  // [out, F]
  float* db_ = nullptr;  // [out]

  GG_LAYER_CUDA
};

}  // namespace gg
