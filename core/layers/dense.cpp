#include "core/layers/dense.hpp"

#include <cblas.h>

#include <algorithm>
#include <climits>
#include <cstring>

#include "core/layers/layer_util.hpp"
#include "core/layers/thread_split.hpp"

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
  const int n = x.shape().n, N = o_.out, F = F_;
  out.resize({n, 1, 1, N});
  float* y = out.data();
  float beta = 0.0f;
  if (b_) {
    fill_rows(y, b_, std::size_t(n), std::size_t(N));
    beta = 1.0f;
  }
  // y[n, N] = x[n, F] * W[N, F]^T (+ b), a chunk of the output's columns at a time
  const int chunks = chunk_count(N, kChunk);
  const int team = team_for(std::size_t(n) * N * F / 8, chunks, kParallelMin);
#pragma omp parallel for schedule(static) num_threads(team)
  for (int i = 0; i < chunks; ++i) {
    const Slice o = chunk_of(N, kChunk, i);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, o.size(), F, 1.0f, x.data(), F,
                w_ + std::size_t(o.begin) * F, F, beta, y + o.begin, N);
  }
}

void Dense::backward(std::span<const Tensor* const> in, const Tensor& out, const Tensor& dout,
                     std::span<Tensor* const> din, const RunContext& ctx) {
  if (dout.device() == Device::CUDA) return backward_cuda(in, out, dout, din, ctx);
  const Tensor& x = *in[0];
  const int n = x.shape().n, N = o_.out, F = F_;
  const float* dy = dout.data();
  Tensor* dx = din.empty() ? nullptr : din[0];
  if (dx) dx->resize(x.shape());
  const int out_chunks = chunk_count(N, kChunk), in_chunks = dx ? chunk_count(F, kChunk) : 0;
  const int team = team_for(std::size_t(n) * N * F / 4, std::max(out_chunks, in_chunks), kParallelMin);
#pragma omp parallel num_threads(team)
  {
    // dW[N, F] = dy[n, N]^T * x[n, F] and db[N] = column sums of dy, a chunk of dW's rows at a time
#pragma omp for schedule(static) nowait
    for (int i = 0; i < out_chunks; ++i) {
      const Slice o = chunk_of(N, kChunk, i);
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, o.size(), F, n, 1.0f, dy + o.begin, N, x.data(), F, 0.0f,
                  dw_ + std::size_t(o.begin) * F, F);
      if (db_) {
        float* __restrict db = db_;
        std::fill(db + o.begin, db + o.end, 0.0f);
        for (int r = 0; r < n; ++r) {
          const float* __restrict row = dy + std::size_t(r) * N;
          for (int j = o.begin; j < o.end; ++j) db[j] += row[j];
        }
      }
    }
    // dx[n, F] = dy[n, N] * W[N, F], a chunk of dx's columns at a time
#pragma omp for schedule(static) nowait
    for (int i = 0; i < in_chunks; ++i) {
      const Slice f = chunk_of(F, kChunk, i);
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, f.size(), N, 1.0f, dy, N, w_ + f.begin, F, 0.0f,
                  dx->data() + f.begin, F);
    }
  }
}

}  // namespace gg
