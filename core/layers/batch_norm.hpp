#pragma once
// Batch normalisation per channel over the n*h*w positions of a batch.
//   Train: y = gamma * (x - mean_B) / sqrt(var_B + eps) + beta, and the running statistics move
//          toward the batch's: running = momentum * running + (1 - momentum) * batch
//          (running variance uses the unbiased batch variance, as Caffe and PyTorch do).
//   Eval:  the same with the running mean and variance.
// The running statistics are layer members, not parameters: they are neither communicated nor decayed.
//
//   x, y [n, h, w, c]   gamma, beta, mean_, invstd_, running_mean_, running_var_ [c]
#include <vector>

#include "core/layers/layer.hpp"

namespace gg {

struct BatchNormOptions {
  float momentum = 0.9f;
  float eps = 1e-5f;
};

class BatchNorm : public Layer {
 public:
  explicit BatchNorm(BatchNormOptions opts);
  std::string kind() const override { return "batch_norm"; }
  Shape setup(std::span<const Shape> in) override;
  std::vector<ParamSpec> params() const override;
  void bind(std::span<const std::span<float>> weights, std::span<const std::span<float>> grads) override;
  void forward(std::span<const Tensor* const> in, Tensor& out, const RunContext& ctx) override;
  void backward(std::span<const Tensor* const> in, const Tensor& out, const Tensor& dout,
                std::span<Tensor* const> din, const RunContext& ctx) override;
  double forward_flops_per_sample() const override { return 4.0 * double(in_.per_sample()); }

  std::vector<std::span<float>> persistent_state() override { return {running_mean(), running_var()}; }
  // On the model's device (place()).
  std::span<float> running_mean() { return running_.span().first(std::size_t(in_.c)); }
  std::span<float> running_var() { return running_.span().last(std::size_t(in_.c)); }
  void place(Device device) override;

 private:
  BatchNormOptions o_;
  Shape in_{};
  float *gamma_ = nullptr, *beta_ = nullptr, *dgamma_ = nullptr, *dbeta_ = nullptr;  // [c]
  Tensor running_;                                 // [2c]: running mean (starts at 0), running variance (1)
  std::vector<float> mean_, invstd_;               // [c] statistics used by the last forward
  std::vector<double> acc0_, acc1_;                // [c] reduction scratch
  std::vector<double> parts_;                      // [kParts, c] the row parts' partial sums
  // sum[j] = sum over rows r < m of term(r, j), as kParts fixed row parts added in part order (threads
  // take parts, so the sums do not depend on the thread count)
  template <class Term>
  void row_sums(std::size_t m, int c, double* sum, Term term);
  static constexpr int kParts = 8;

  GG_LAYER_CUDA
};

}  // namespace gg
