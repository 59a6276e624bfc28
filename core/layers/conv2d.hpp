#pragma once
// 2-D convolution over NHWC activations as one GEMM per batch (im2col + sgemm, Caffe's approach
// with the batch folded into the GEMM rows).
//
//   x   [n, h, w, cin]         input
//   col [n*oh*ow, k*k*cin]     im2col of the whole batch (skipped for 1x1 stride-1 pad-0)
//   W   [cout, k, k, cin]      = [cout, K] row-major, K = k*k*cin
//   y   [n, oh, ow, cout]      = col * W^T + b   (already NHWC: rows are output pixels)
#include <vector>

#include "core/layers/layer.hpp"

namespace gg {

struct Conv2DOptions {
  int out_channels = 1;
  int kernel = 1;
  int stride = 1;
  int pad = 0;
  bool bias = true;
  Init init = Init::Kaiming;  // weights: Kaiming (He) or Xavier (Glorot), as Caffe's "xavier" filler
};

class Conv2D : public Layer {
 public:
  explicit Conv2D(Conv2DOptions opts);
  std::string kind() const override { return "conv2d"; }
  Shape setup(std::span<const Shape> in) override;
  std::vector<ParamSpec> params() const override;
  void bind(std::span<const std::span<float>> weights, std::span<const std::span<float>> grads) override;
  void forward(std::span<const Tensor* const> in, Tensor& out, const RunContext& ctx) override;
  void backward(std::span<const Tensor* const> in, const Tensor& out, const Tensor& dout,
                std::span<Tensor* const> din, const RunContext& ctx) override;
  double forward_flops_per_sample() const override;

  const Conv2DOptions& options() const { return o_; }

 private:
  bool direct() const { return o_.kernel == 1 && o_.stride == 1 && o_.pad == 0; }
  // x [n,h,w,cin] -> col_ [n*oh*ow, K]
  void im2col(const float* x, int n);
  // dcol_ [n*oh*ow, K] -> dx [n,h,w,cin] (overwrites dx)
  void col2im(float* dx, int n) const;

  Conv2DOptions o_;
  Shape in_{}, out_{};
  int K_ = 0;                      // k*k*cin
  float* w_ = nullptr;             // [cout, K]
  float* b_ = nullptr;             // [cout] (null without bias)
  float* dw_ = nullptr;            // [cout, K]
  float* db_ = nullptr;            // [cout]
  Tensor col_;                     // [n*oh*ow, K]
  Tensor dcol_;                    // [n*oh*ow, K]
  std::vector<float> ones_;        // [n*oh*ow] all 1, for the bias gradient

  GG_LAYER_CUDA
};

}  // namespace gg
