#include "core/layers/conv2d.hpp"

#include <cblas.h>

#include <algorithm>
#include <cstring>

#include "core/layers/layer_util.hpp"
#include "core/layers/thread_split.hpp"

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

int Conv2D::block_samples() const {
  const std::size_t per_sample = std::size_t(out_.h) * out_.w * std::max(K_, out_.c);
  return int(std::clamp<std::size_t>(kBlockFloats / std::max<std::size_t>(per_sample, 1), 1, std::size_t(in_.n)));
}

void Conv2D::im2col(const float* x, int n, int b0, int b1) {
  const int h = in_.h, w = in_.w, c = in_.c, k = o_.kernel, s = o_.stride, p = o_.pad;
  const int oh = out_.h, ow = out_.w, K = K_;
  float* col = col_.data();
  const float* x_end = x + std::size_t(n) * h * w * c;
  for (int b = b0; b < b1; ++b) {
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

void Conv2D::col2im(const float* dcol, float* dx, int b0, int b1) const {
  const int h = in_.h, w = in_.w, c = in_.c, k = o_.kernel, s = o_.stride, p = o_.pad;
  const int oh = out_.h, ow = out_.w, K = K_;
  for (int b = b0; b < b1; ++b) {  // each sample's rows only touch that sample's pixels
    float* xb = dx + std::size_t(b) * h * w * c;
    std::memset(xb, 0, sizeof(float) * h * w * c);
    for (int oy = 0; oy < oh; ++oy) {
      for (int ox = 0; ox < ow; ++ox) {
        const float* src = dcol + (std::size_t(b - b0) * oh * ow + std::size_t(oy) * ow + ox) * K;
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

// y[rows, N] = col[rows, K] * W[N, K]^T (+ b): one block of output pixels, on the calling thread.
void Conv2D::forward_rows(const float* col, float* y, int rows) const {
  const int N = out_.c, K = K_;
  float beta = 0.0f;
  if (b_) {  // y rows start as the bias, then the GEMM accumulates onto them
    fill_rows(y, b_, std::size_t(rows), std::size_t(N));
    beta = 1.0f;
  }
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, N, K, 1.0f, col, K, w_, K, beta, y, N);
}

void Conv2D::forward(std::span<const Tensor* const> in, Tensor& out, const RunContext& ctx) {
  if (in[0]->device() == Device::CUDA) return forward_cuda(in, out, ctx);
  const Tensor& x = *in[0];
  const int n = x.shape().n;
  out.resize(out_.with_batch(n));
  const int rows = out_.h * out_.w, K = K_, N = out_.c;
  if (!direct()) col_.resize({n * rows, 1, 1, K});
  // 1x1/stride 1/pad 0: x [n*h*w, cin] is already the col matrix
  const float* col = direct() ? x.data() : col_.data();
  float* y = out.data();
  // A cache-sized block of samples at a time: lay out its im2col rows and multiply them while they
  // are still in cache.
  const int block = block_samples(), blocks = chunk_count(n, block);
  const int team = team_for(std::size_t(n) * rows * (std::size_t(K) + N), blocks, kParallelMin);
#pragma omp parallel for schedule(static) num_threads(team)
  for (int i = 0; i < blocks; ++i) {
    const Slice b = chunk_of(n, block, i);
    if (!direct()) im2col(x.data(), n, b.begin, b.end);
    const std::size_t r0 = std::size_t(b.begin) * rows;
    forward_rows(col + r0 * K, y + r0 * N, b.size() * rows);
  }
}

void Conv2D::weight_grad_part(const float* dy, const float* col, int part, int rows_total) {
  const int N = out_.c, K = K_;
  if (small_weight_grad()) {  // batch part `part`: its partial sum, added in part order afterwards
    const Slice r = slice_of(rows_total, kGradParts, part);
    float* dst = dw_parts_.data() + std::size_t(part) * N * K;
    if (r.size() == 0) std::fill(dst, dst + std::size_t(N) * K, 0.0f);  // fewer rows than parts
    else
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, N, K, r.size(), 1.0f, dy + std::size_t(r.begin) * N, N,
                  col + std::size_t(r.begin) * K, K, 0.0f, dst, K);
  } else if (K >= N) {  // columns [k) of dW, the whole batch
    const Slice k = chunk_of(K, kGradChunk, part);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, N, k.size(), rows_total, 1.0f, dy, N, col + k.begin, K,
                0.0f, dw_ + k.begin, K);
  } else {  // rows [o) of dW
    const Slice o = chunk_of(N, kGradChunk, part);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, o.size(), K, rows_total, 1.0f, dy + o.begin, N, col, K,
                0.0f, dw_ + std::size_t(o.begin) * K, K);
  }
}

void Conv2D::backward(std::span<const Tensor* const> in, const Tensor& out, const Tensor& dout,
                      std::span<Tensor* const> din, const RunContext& ctx) {
  if (dout.device() == Device::CUDA) return backward_cuda(in, out, dout, din, ctx);
  const Tensor& x = *in[0];
  const int n = x.shape().n;
  const int rows = out_.h * out_.w, M = n * rows, N = out_.c, K = K_;
  const float* col = direct() ? x.data() : col_.data();
  const float* dy = dout.data();
  if (db_ && ones_.size() < std::size_t(M)) ones_.assign(std::size_t(M), 1.0f);
  Tensor* dx = din.empty() ? nullptr : din[0];
  const int block = block_samples(), blocks = chunk_count(n, block);
  if (dx) {
    dx->resize(x.shape());
    if (!direct()) dcol_.resize({omp_get_max_threads() * block * rows, 1, 1, K});
  }
  const bool small = small_weight_grad();
  const int grad_parts = small ? kGradParts : chunk_count(std::max(N, K), kGradChunk);
  if (small) dw_parts_.resize(std::size_t(kGradParts) * N * K);
  const int team = team_for(std::size_t(M) * (std::size_t(K) + N), std::max(grad_parts, blocks), kParallelMin);
#pragma omp parallel num_threads(team)
  {
    // db[N] = dy[M, N]^T * ones[M] (Caffe's bias_multiplier; a plain loop is 3x slower at N = 20)
#pragma omp single nowait
    if (db_) cblas_sgemv(CblasRowMajor, CblasTrans, M, N, 1.0f, dy, N, ones_.data(), 1, 0.0f, db_, 1);
    // dW[N, K] = dy[M, N]^T * col[M, K]
#pragma omp for schedule(static) nowait
    for (int part = 0; part < grad_parts; ++part) weight_grad_part(dy, col, part, M);
    // dx, a block of samples at a time: dcol[rows, K] = dy[rows, N] * W[N, K], then col2im
    if (dx) {
      float* dcol = direct() ? nullptr : dcol_.data() + std::size_t(omp_get_thread_num()) * block * rows * K;
#pragma omp for schedule(static) nowait
      for (int i = 0; i < blocks; ++i) {
        const Slice b = chunk_of(n, block, i);
        const std::size_t r0 = std::size_t(b.begin) * rows;
        float* dst = direct() ? dx->data() + r0 * K : dcol;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, b.size() * rows, K, N, 1.0f, dy + r0 * N, N, w_, K,
                    0.0f, dst, K);
        if (!direct()) col2im(dcol, dx->data(), b.begin, b.end);
      }
    }
    if (small) {  // dW = the parts' partial sums, added in part order
#pragma omp barrier
      const std::size_t NK = std::size_t(N) * K;
#pragma omp for schedule(static)
      for (std::size_t j = 0; j < NK; ++j) {
        float sum = dw_parts_[j];
        for (int part = 1; part < kGradParts; ++part) sum += dw_parts_[std::size_t(part) * NK + j];
        dw_[j] = sum;
      }
    }
  }
}

}  // namespace gg
