#include "core/layers/dense.hpp"

#include <cblas.h>

#include <algorithm>
#include <climits>
#include <cstring>

#include "core/layers/layer_util.hpp"

namespace gg {

Dense::Dense(DenseOptions opts) : o_(opts) {}

Shape Dense::setup(std::span<const Shape> in) {
  expect_inputs(*this, in, 1, 1);
  if (o_.out < 1) layer_fail(*this, "needs out >= 1");
  if (in[0].per_sample() > std::size_t(INT_MAX)) layer_fail(*this, "input too large: " + in[0].str());
  F_ = int(in[0].per_sample());
  return {in[0].n, 1, 1, o_.out};
}

std::vector<ParamSpec> Dense::params() const {
  return weight_bias_specs(std::size_t(o_.out), std::size_t(F_), float(o_.out), o_.init, o_.bias);
}

void Dense::bind(std::span<const std::span<float>> weights, std::span<const std::span<float>> grads) {
  const WeightBias v = bind_weight_bias(*this, weights, grads, o_.bias);
  w_ = v.w;
  dw_ = v.dw;
  b_ = v.b;
  db_ = v.db;
}

void Dense::forward(std::span<const Tensor* const> in, Tensor& out, const RunContext& ctx) {
  if (in[0]->device() == Device::CUDA) return forward_cuda(in, out, ctx);
  const Tensor& x = *in[0];
  const int n = x.shape().n, N = o_.out;
  out.resize({n, 1, 1, N});
  float* y = out.data();
  float beta = 0.0f;
  if (b_) {
    fill_rows(y, b_, std::size_t(n), std::size_t(N));
    beta = 1.0f;
  }
  // y[n, N] = x[n, F] * W[N, F]^T (+ b)
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, N, F_, 1.0f, x.data(), F_, w_, F_, beta, y, N);
}

void Dense::backward(std::span<const Tensor* const> in, const Tensor& out, const Tensor& dout,
                     std::span<Tensor* const> din, const RunContext& ctx) {
  if (dout.device() == Device::CUDA) return backward_cuda(in, out, dout, din, ctx);
  const Tensor& x = *in[0];
  const int n = x.shape().n, N = o_.out;
  const float* dy = dout.data();
  // dW[N, F] = dy[n, N]^T * x[n, F]
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, N, F_, n, 1.0f, dy, N, x.data(), F_, 0.0f, dw_, F_);
  if (db_) {  // db[N] = column sums of dy
    std::fill(db_, db_ + N, 0.0f);
    for (int r = 0; r < n; ++r) {
      const float* __restrict row = dy + std::size_t(r) * N;
      float* __restrict db = db_;
      for (int j = 0; j < N; ++j) db[j] += row[j];
    }
  }
  Tensor* dx = din.empty() ? nullptr : din[0];
  if (!dx) return;
  dx->resize(x.shape());
  // dx[n, F] = dy[n, N] * W[N, F]
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, F_, N, 1.0f, dy, N, w_, F_, 0.0f, dx->data(), F_);
}

}  // namespace gg
