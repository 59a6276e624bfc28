#pragma once
// 2-D convolution over NHWC activations as im2col + sgemm (Caffe's approach with the batch folded into
// the GEMM rows). Threads split the batch (forward, input gradient) or the weight gradient's output
// (core/layers/thread_split.hpp); each thread works in cache-sized blocks of samples.
//
//   x   [n, h, w, cin]         input
//   col [n*oh*ow, k*k*cin]     im2col of the whole batch (skipped for 1x1 stride-1 pad-0)
//   W   [cout, k, k, cin]      = [cout, K] row-major, K = k*k*cin
//   y   [n, oh, ow, cout]      = col * W^T + b   (already NHWC: rows are output pixels)
#include <cstddef>
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
  // Samples per cache-sized block (about kBlockFloats of im2col or output rows), at least 1.
  int block_samples() const;
  // x [n,h,w,cin] samples [b0, b1) -> their rows of col_ [n*oh*ow, K]
  void im2col(const float* x, int n, int b0, int b1);
  // dcol [(b1-b0)*oh*ow, K] (samples b0..b1-1) -> dx [b0..b1-1, h, w, cin] (overwrites those samples)
  void col2im(const float* dcol, float* dx, int b0, int b1) const;
  // y[rows, cout] = col[rows, K] * W^T (+ b)
  void forward_rows(const float* col, float* y, int rows) const;

  // dW's part `part` of grad_parts (backward): a batch part's partial sum when the weights are few
  // (small_weight_grad), else a chunk of dW's wider dimension over the whole batch.
  void weight_grad_part(const float* dy, const float* col, int part, int rows_total);
  bool small_weight_grad() const { return std::size_t(out_.c) * K_ <= kSmallWeights; }

  static constexpr std::size_t kBlockFloats = std::size_t(1) << 18;  // 1 MB: a block stays in L2
  static constexpr std::size_t kSmallWeights = 32768;  // up to this many weights, dW sums batch parts
  static constexpr int kGradParts = 8;                 // ... this many (the same on any team)
  static constexpr int kGradChunk = 64;                // else dW is cut into chunks of 64 rows or columns

  Conv2DOptions o_;
  Shape in_{}, out_{};
  int K_ = 0;                      // k*k*cin
  float* w_ = nullptr;             // [cout, K]
  float* b_ = nullptr;             // [cout] (null without bias)
  float* dw_ = nullptr;            // [cout, K]
  float* db_ = nullptr;            // [cout]
  Tensor col_;                     // [n*oh*ow, K]
  Tensor dcol_;                    // [threads * block * oh*ow, K]: each thread's block of dcol
  std::vector<float> ones_;        // [n*oh*ow] all 1, for the bias gradient
  std::vector<float> dw_parts_;    // [kGradParts, cout, K]: dW's partial sums (small_weight_grad)

  GG_LAYER_CUDA
};

}  // namespace gg
