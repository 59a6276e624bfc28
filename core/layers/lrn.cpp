#include "core/layers/lrn.hpp"

#include <algorithm>
#include <cmath>

#include "core/layers/layer_util.hpp"

namespace gg {

LRN::LRN(LRNOptions opts) : o_(opts) {}

Shape LRN::setup(std::span<const Shape> in) {
  expect_inputs(*this, in, 1, 1);
  if (o_.size < 1 || o_.size % 2 == 0)
    layer_fail(*this, "size must be odd and positive, got " + std::to_string(o_.size));
  if (!(o_.k > 0.0f) || !(o_.alpha >= 0.0f)) layer_fail(*this, "needs k > 0 and alpha >= 0");
  in_ = in[0];
  return in_;
}

void LRN::forward(std::span<const Tensor* const> in, Tensor& out, const RunContext& ctx) {
  if (in[0]->device() == Device::CUDA) return forward_cuda(in, out, ctx);
  const Tensor& x = *in[0];
  out.resize(x.shape());
  scale_.resize(x.shape());
  const long pixels = long(x.shape().n) * in_.h * in_.w;
  const int c = in_.c, half = (o_.size - 1) / 2;
  const float a = o_.alpha / float(o_.size), k = o_.k, beta = o_.beta;
  const float* xs = x.data();
  float* ys = out.data();
  float* sc = scale_.data();
#pragma omp parallel for schedule(static) if(x.size() >= kParallelMin)
  for (long p = 0; p < pixels; ++p) {
    const float* v = xs + p * c;
    float* s = sc + p * c;
    float* y = ys + p * c;
    for (int j = 0; j < c; ++j) {
      const int lo = std::max(0, j - half), hi = std::min(c - 1, j + half);
      float sum = 0.0f;
      for (int t = lo; t <= hi; ++t) sum += v[t] * v[t];
      s[j] = k + a * sum;
      y[j] = v[j] * std::pow(s[j], -beta);
    }
  }
}

// dx_c = dy_c * scale_c^-beta - 2*alpha*beta/size * x_c * sum_{c' : c in window(c')} dy_c' y_c' / scale_c'
void LRN::backward(std::span<const Tensor* const> in, const Tensor& out, const Tensor& dout,
                   std::span<Tensor* const> din, const RunContext& ctx) {
  if (dout.device() == Device::CUDA) return backward_cuda(in, out, dout, din, ctx);
  Tensor* dx = din.empty() ? nullptr : din[0];
  if (!dx) return;
  const Tensor& x = *in[0];
  dx->resize(x.shape());
  const long pixels = long(x.shape().n) * in_.h * in_.w;
  const int c = in_.c, half = (o_.size - 1) / 2;
  const float coef = 2.0f * o_.alpha * o_.beta / float(o_.size), beta = o_.beta;
  const float* xs = x.data();
  const float* ys = out.data();
  const float* gs = dout.data();
  const float* sc = scale_.data();
  float* ds = dx->data();
  ratio_.resize(x.shape());
  float* rs = ratio_.data();
#pragma omp parallel for schedule(static) if(x.size() >= kParallelMin)
  for (long p = 0; p < pixels; ++p) {
    const float *v = xs + p * c, *y = ys + p * c, *g = gs + p * c, *s = sc + p * c;
    float* r = rs + p * c;
    float* d = ds + p * c;
    for (int j = 0; j < c; ++j) r[j] = g[j] * y[j] / s[j];
    for (int j = 0; j < c; ++j) {  // the window is symmetric, so c' ranges over window(c)
      const int lo = std::max(0, j - half), hi = std::min(c - 1, j + half);
      float sum = 0.0f;
      for (int t = lo; t <= hi; ++t) sum += r[t];
      d[j] = g[j] * std::pow(s[j], -beta) - coef * v[j] * sum;
    }
  }
}

}  // namespace gg
