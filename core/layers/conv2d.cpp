#include "core/layers/conv2d.hpp"

#include <cblas.h>

#include <algorithm>
#include <cstring>

#include "core/layers/layer_util.hpp"

namespace gg {

namespace {

// Copies len floats from src to dst in whole 8-float blocks when both buffers have room, so a short
// run (cin = 1 or 3: 5 or 15 floats) is one or two vector moves instead of a memcpy call. The up to
// 7 floats written past dst + len are garbage that im2col overwrites next (it writes in order).
inline void copy_run(float* dst, const float* src, int len, const float* dst_end, const float* src_end) {
  const int padded = (len + 7) & ~7;
  if (dst + padded <= dst_end && src + padded <= src_end) {
    for (int i = 0; i < padded; i += 8) std::memcpy(dst + i, src + i, 8 * sizeof(float));
  } else {
    std::memcpy(dst, src, sizeof(float) * len);
  }
}

// d[0, len) += s[0, len)
inline void add_run(float* __restrict d, const float* __restrict s, int len) {
  for (int i = 0; i < len; ++i) d[i] += s[i];
}

}  // namespace

Conv2D::Conv2D(Conv2DOptions opts) : o_(opts) {}

Shape Conv2D::setup(std::span<const Shape> in) {
  expect_inputs(*this, in, 1, 1);
  if (o_.out_channels < 1 || o_.kernel < 1 || o_.stride < 1 || o_.pad < 0)
    layer_fail(*this, "needs out >= 1, kernel >= 1, stride >= 1, pad >= 0");
  in_ = in[0];
  const int ph = in_.h + 2 * o_.pad, pw = in_.w + 2 * o_.pad;
  if (o_.kernel > ph || o_.kernel > pw)
    layer_fail(*this, "kernel " + std::to_string(o_.kernel) + " larger than padded input " +
                          std::to_string(ph) + "x" + std::to_string(pw));
  const int oh = window_out(in_.h, o_.kernel, o_.stride, o_.pad);
  const int ow = window_out(in_.w, o_.kernel, o_.stride, o_.pad);
  if (oh <= 0 || ow <= 0) layer_fail(*this, "output would be empty for input " + in_.str());
  out_ = {in_.n, oh, ow, o_.out_channels};
  K_ = o_.kernel * o_.kernel * in_.c;
  return out_;
}

std::vector<ParamSpec> Conv2D::params() const {
  const float k2 = float(o_.kernel * o_.kernel);
  return weight_bias_specs(std::size_t(o_.out_channels), std::size_t(K_), k2 * o_.out_channels, o_.init, o_.bias);
}

void Conv2D::bind(std::span<const std::span<float>> weights, std::span<const std::span<float>> grads) {
  const WeightBias v = bind_weight_bias(*this, weights, grads, o_.bias);
  w_ = v.w;
  dw_ = v.dw;
  b_ = v.b;
  db_ = v.db;
}

double Conv2D::forward_flops_per_sample() const {
  return 2.0 * out_.h * out_.w * out_.c * double(K_);
}

void Conv2D::im2col(const float* x, int n) {
  const int h = in_.h, w = in_.w, c = in_.c, k = o_.kernel, s = o_.stride, p = o_.pad;
  const int oh = out_.h, ow = out_.w, K = K_;
  float* col = col_.data();
  const float* x_end = x + std::size_t(n) * h * w * c;
#pragma omp parallel for schedule(static) if(col_.size() >= kParallelMin)
  for (int b = 0; b < n; ++b) {
    const float* xb = x + std::size_t(b) * h * w * c;
    // This sample's rows; over-copies must stay inside them (the next sample may be another thread's).
    const float* col_end = col + (std::size_t(b) + 1) * oh * ow * K;
    for (int oy = 0; oy < oh; ++oy) {
      for (int ox = 0; ox < ow; ++ox) {
        float* dst = col + (std::size_t(b) * oh * ow + std::size_t(oy) * ow + ox) * K;
        const int x0 = ox * s - p, y0 = oy * s - p;
        if (x0 >= 0 && x0 + k <= w && y0 >= 0 && y0 + k <= h) {  // interior: k runs of k*c, no padding
          const float* src = xb + (std::size_t(y0) * w + x0) * c;
          for (int ky = 0; ky < k; ++ky)
            copy_run(dst + ky * k * c, src + std::size_t(ky) * w * c, k * c, col_end, x_end);
          continue;
        }
        // Kernel columns [kx0, kx1) fall inside the image; in NHWC they are one contiguous run.
        const int kx0 = std::max(0, -x0), kx1 = std::min(k, w - x0);
        for (int ky = 0; ky < k; ++ky, dst += k * c) {
          const int iy = oy * s - p + ky;
          if (iy < 0 || iy >= h || kx1 <= kx0) {
            std::memset(dst, 0, sizeof(float) * k * c);
            continue;
          }
          if (kx0 > 0) std::memset(dst, 0, sizeof(float) * kx0 * c);
          copy_run(dst + kx0 * c, xb + (std::size_t(iy) * w + x0 + kx0) * c, (kx1 - kx0) * c, col_end,
                   x_end);
          if (kx1 < k) std::memset(dst + kx1 * c, 0, sizeof(float) * (k - kx1) * c);
        }
      }
    }
  }
}

void Conv2D::col2im(float* dx, int n) const {
  const int h = in_.h, w = in_.w, c = in_.c, k = o_.kernel, s = o_.stride, p = o_.pad;
  const int oh = out_.h, ow = out_.w, K = K_;
  const float* dcol = dcol_.data();
  // Each sample's rows only touch that sample's pixels, so threads never share an output element.
#pragma omp parallel for schedule(static) if(dcol_.size() >= kParallelMin)
  for (int b = 0; b < n; ++b) {
    float* xb = dx + std::size_t(b) * h * w * c;
    std::memset(xb, 0, sizeof(float) * h * w * c);
    for (int oy = 0; oy < oh; ++oy) {
      for (int ox = 0; ox < ow; ++ox) {
        const float* src = dcol + (std::size_t(b) * oh * ow + std::size_t(oy) * ow + ox) * K;
        const int x0 = ox * s - p, y0 = oy * s - p;
        if (x0 >= 0 && x0 + k <= w && y0 >= 0 && y0 + k <= h) {  // interior
          float* d = xb + (std::size_t(y0) * w + x0) * c;
          for (int ky = 0; ky < k; ++ky) add_run(d + std::size_t(ky) * w * c, src + ky * k * c, k * c);
          continue;
        }
        const int kx0 = std::max(0, -x0), kx1 = std::min(k, w - x0);
        for (int ky = 0; ky < k; ++ky, src += k * c) {
          const int iy = oy * s - p + ky;
          if (iy < 0 || iy >= h || kx1 <= kx0) continue;
          add_run(xb + (std::size_t(iy) * w + x0 + kx0) * c, src + kx0 * c, (kx1 - kx0) * c);
        }
      }
    }
  }
}

void Conv2D::forward(std::span<const Tensor* const> in, Tensor& out, const RunContext& ctx) {
  if (in[0]->device() == Device::CUDA) return forward_cuda(in, out, ctx);
  const Tensor& x = *in[0];
  const int n = x.shape().n;
  out.resize(out_.with_batch(n));
  const int M = n * out_.h * out_.w, N = out_.c, K = K_;
  const float* col = x.data();  // 1x1/stride 1/pad 0: x [n*h*w, cin] is already the col matrix
  if (!direct()) {
    col_.resize({M, 1, 1, K});
    im2col(x.data(), n);
    col = col_.data();
  }
  float* y = out.data();
  float beta = 0.0f;
  if (b_) {  // y rows start as the bias, then the GEMM accumulates onto them
    fill_rows(y, b_, std::size_t(M), std::size_t(N));
    beta = 1.0f;
  }
  // y[M, N] = col[M, K] * W[N, K]^T
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, 1.0f, col, K, w_, K, beta, y, N);
}

void Conv2D::backward(std::span<const Tensor* const> in, const Tensor& out, const Tensor& dout,
                      std::span<Tensor* const> din, const RunContext& ctx) {
  if (dout.device() == Device::CUDA) return backward_cuda(in, out, dout, din, ctx);
  const Tensor& x = *in[0];
  const int n = x.shape().n;
  const int M = n * out_.h * out_.w, N = out_.c, K = K_;
  const float* col = direct() ? x.data() : col_.data();
  const float* dy = dout.data();
  // dW[N, K] = dy[M, N]^T * col[M, K]
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, N, K, M, 1.0f, dy, N, col, K, 0.0f, dw_, K);
  if (db_) {  // db[N] = dy[M, N]^T * ones[M] (Caffe's bias_multiplier; a plain loop is 3x slower at N = 20)
    if (ones_.size() < std::size_t(M)) ones_.assign(std::size_t(M), 1.0f);
    cblas_sgemv(CblasRowMajor, CblasTrans, M, N, 1.0f, dy, N, ones_.data(), 1, 0.0f, db_, 1);
  }
  Tensor* dx = din.empty() ? nullptr : din[0];
  if (!dx) return;
  dx->resize(x.shape());
  if (direct()) {  // dx[M, cin] = dy[M, N] * W[N, K]
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, K, N, 1.0f, dy, N, w_, K, 0.0f,
                dx->data(), K);
    return;
  }
  dcol_.resize({M, 1, 1, K});
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, K, N, 1.0f, dy, N, w_, K, 0.0f,
              dcol_.data(), K);
  col2im(dx->data(), n);
}

}  // namespace gg
