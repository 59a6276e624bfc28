#include "core/layers/batch_norm.hpp"

#include <algorithm>
#include <cmath>

#include "core/layers/layer_util.hpp"

namespace gg {

BatchNorm::BatchNorm(BatchNormOptions opts) : o_(opts) {}

template <class Term>
void BatchNorm::row_sums(std::size_t m, int c, double* sum, Term term) {
  double* parts = parts_.data();  // [kParts, c]
  const bool parallel = m * std::size_t(c) >= kParallelMin;
#pragma omp parallel for schedule(static) if(parallel)
  for (int p = 0; p < kParts; ++p) {
    double* acc = parts + std::size_t(p) * c;
    for (int j = 0; j < c; ++j) acc[j] = 0.0;
    const std::size_t r0 = m * std::size_t(p) / kParts, r1 = m * std::size_t(p + 1) / kParts;
    for (std::size_t r = r0; r < r1; ++r)
      for (int j = 0; j < c; ++j) acc[j] += term(r, j);
  }
  for (int j = 0; j < c; ++j) {
    double total = parts[j];
    for (int p = 1; p < kParts; ++p) total += parts[std::size_t(p) * c + j];
    sum[j] = total;
  }
}

Shape BatchNorm::setup(std::span<const Shape> in) {
  expect_inputs(*this, in, 1, 1);
  if (!(o_.momentum >= 0.0f && o_.momentum <= 1.0f) || !(o_.eps > 0.0f))
    layer_fail(*this, "needs momentum in [0, 1] and eps > 0");
  in_ = in[0];
  const std::size_t c = std::size_t(in_.c);
  running_ = Tensor({1, 1, 1, int(2 * c)});
  std::fill(running_.data(), running_.data() + c, 0.0f);
  std::fill(running_.data() + c, running_.data() + 2 * c, 1.0f);
  mean_.assign(c, 0.0f);
  invstd_.assign(c, 1.0f);
  acc0_.assign(c, 0.0);
  acc1_.assign(c, 0.0);
  parts_.assign(std::size_t(kParts) * c, 0.0);
  return in_;
}

void BatchNorm::place(Device device) {
  if (device == running_.device()) return;
  Tensor moved(running_.shape(), device);
  moved.copy_from(running_);
  running_ = std::move(moved);
}

std::vector<ParamSpec> BatchNorm::params() const {
  const std::size_t c = std::size_t(in_.c);
  return {{"gamma", c, Init::One, 1.0f, 1.0f, false}, {"beta", c, Init::Zero, 1.0f, 1.0f, false}};
}

void BatchNorm::bind(std::span<const std::span<float>> weights, std::span<const std::span<float>> grads) {
  expect_bind(*this, weights, grads, 2);
  gamma_ = weights[0].data();
  beta_ = weights[1].data();
  dgamma_ = grads[0].data();
  dbeta_ = grads[1].data();
}

void BatchNorm::forward(std::span<const Tensor* const> in, Tensor& out, const RunContext& ctx) {
  if (in[0]->device() == Device::CUDA) return forward_cuda(in, out, ctx);
  const Tensor& x = *in[0];
  out.resize(x.shape());
  const int c = in_.c;
  const std::size_t m = x.size() / std::size_t(c);  // positions per channel: n*h*w
  const float* xs = x.data();
  if (ctx.phase == Phase::Train) {
    // Two passes in row order (deterministic): mean, then the centred sum of squares.
    double* s0 = acc0_.data();
    double* s1 = acc1_.data();
    // Per-channel sums over the n*h*w rows, in kParts fixed row parts added in part order (the same
    // sums at any thread count): the mean, then the squared deviations from it.
    row_sums(m, c, s0, [&](std::size_t r, int j) { return double(xs[r * c + j]); });
    for (int j = 0; j < c; ++j) s0[j] /= double(m);
    row_sums(m, c, s1, [&](std::size_t r, int j) {
      const double d = xs[r * c + j] - s0[j];
      return d * d;
    });
    const float mom = o_.momentum;
    float* rmean = running_mean().data();
    float* rvar = running_var().data();
    for (int j = 0; j < c; ++j) {
      const double var = s1[j] / double(m);
      mean_[j] = float(s0[j]);
      invstd_[j] = float(1.0 / std::sqrt(var + o_.eps));
      const double unbiased = m > 1 ? s1[j] / double(m - 1) : var;
      rmean[j] = mom * rmean[j] + (1.0f - mom) * float(s0[j]);
      rvar[j] = mom * rvar[j] + (1.0f - mom) * float(unbiased);
    }
  } else {
    const float* rmean = running_mean().data();
    const float* rvar = running_var().data();
    for (int j = 0; j < c; ++j) {
      mean_[j] = rmean[j];
      invstd_[j] = 1.0f / std::sqrt(rvar[j] + o_.eps);
    }
  }
  // y = gamma * xhat + beta, xhat = (x - mean) * invstd
  float* ys = out.data();
  const float* mu = mean_.data();
  const float* is = invstd_.data();
#pragma omp parallel for schedule(static) if(x.size() >= kParallelMin)
  for (std::size_t r = 0; r < m; ++r) {
    const float* __restrict v = xs + r * c;
    float* __restrict y = ys + r * c;
    for (int j = 0; j < c; ++j) y[j] = gamma_[j] * ((v[j] - mu[j]) * is[j]) + beta_[j];
  }
}

// With xhat = (x - mean) * invstd:  dbeta = sum dy, dgamma = sum dy * xhat,
// Train: dx = gamma * invstd / m * (m * dy - dbeta - xhat * dgamma);  Eval: dx = gamma * invstd * dy.
void BatchNorm::backward(std::span<const Tensor* const> in, const Tensor& out, const Tensor& dout,
                         std::span<Tensor* const> din, const RunContext& ctx) {
  if (dout.device() == Device::CUDA) return backward_cuda(in, out, dout, din, ctx);
  const Tensor& x = *in[0];
  const int c = in_.c;
  const std::size_t m = x.size() / std::size_t(c);
  const float* xs = x.data();
  const float* g = dout.data();
  const float* mu = mean_.data();
  const float* is = invstd_.data();
  double* sb = acc0_.data();  // sum dy
  double* sg = acc1_.data();  // sum dy * xhat
  row_sums(m, c, sb, [&](std::size_t r, int j) { return double(g[r * c + j]); });
  row_sums(m, c, sg, [&](std::size_t r, int j) {
    return double(g[r * c + j] * ((xs[r * c + j] - mu[j]) * is[j]));
  });
  for (int j = 0; j < c; ++j) {
    dbeta_[j] = float(sb[j]);
    dgamma_[j] = float(sg[j]);
  }
  Tensor* dx = din.empty() ? nullptr : din[0];
  if (!dx) return;
  dx->resize(x.shape());
  float* d = dx->data();
  if (ctx.phase == Phase::Eval) {
#pragma omp parallel for schedule(static) if(x.size() >= kParallelMin)
    for (std::size_t r = 0; r < m; ++r)
      for (int j = 0; j < c; ++j) d[r * c + j] = gamma_[j] * is[j] * g[r * c + j];
    return;
  }
  const float inv_m = 1.0f / float(m);
#pragma omp parallel for schedule(static) if(x.size() >= kParallelMin)
  for (std::size_t r = 0; r < m; ++r)
    for (int j = 0; j < c; ++j) {
      const float xhat = (xs[r * c + j] - mu[j]) * is[j];
      d[r * c + j] = gamma_[j] * is[j] * inv_m *
                     (float(m) * g[r * c + j] - float(sb[j]) - xhat * float(sg[j]));
    }
}

}  // namespace gg
