#include "core/layers/avg_pool.hpp"

#include <algorithm>
#include <cstring>

#include "core/layers/layer_util.hpp"

namespace gg {

AvgPool::AvgPool(AvgPoolOptions opts) : o_(opts) {}

Shape AvgPool::setup(std::span<const Shape> in) {
  expect_inputs(*this, in, 1, 1);
  in_ = in[0];
  if (o_.global) {
    kh_ = in_.h, kw_ = in_.w, stride_ = 1, pad_ = 0;
  } else {
    if (o_.kernel < 1 || o_.stride < 1 || o_.pad < 0)
      layer_fail(*this, "needs kernel >= 1, stride >= 1, pad >= 0");
    if (o_.pad >= o_.kernel)
      layer_fail(*this, "pad " + std::to_string(o_.pad) + " must be smaller than kernel " +
                            std::to_string(o_.kernel));
    kh_ = kw_ = o_.kernel, stride_ = o_.stride, pad_ = o_.pad;
    const int ph = in_.h + 2 * pad_, pw = in_.w + 2 * pad_;
    if (kh_ > ph || kw_ > pw)
      layer_fail(*this, "kernel " + std::to_string(o_.kernel) + " larger than padded input " +
                            std::to_string(ph) + "x" + std::to_string(pw));
  }
  out_ = {in_.n, window_out(in_.h, kh_, stride_, pad_), window_out(in_.w, kw_, stride_, pad_), in_.c};
  return out_;
}

void AvgPool::forward(std::span<const Tensor* const> in, Tensor& out, const RunContext& ctx) {
  if (in[0]->device() == Device::CUDA) return forward_cuda(in, out, ctx);
  const Tensor& x = *in[0];
  const int n = x.shape().n, h = in_.h, w = in_.w, c = in_.c;
  const int oh = out_.h, ow = out_.w, s = stride_, p = pad_;
  out.resize(out_.with_batch(n));
  const float scale = 1.0f / float(kh_ * kw_);
  const float* xs = x.data();
  float* ys = out.data();
#pragma omp parallel for schedule(static) if(x.size() >= kParallelMin)
  for (int b = 0; b < n; ++b) {
    const float* xb = xs + std::size_t(b) * h * w * c;
    for (int oy = 0; oy < oh; ++oy) {
      const int y0 = std::max(0, oy * s - p), y1 = std::min(h, oy * s - p + kh_);
      for (int ox = 0; ox < ow; ++ox) {
        const int x0 = std::max(0, ox * s - p), x1 = std::min(w, ox * s - p + kw_);
        float* __restrict m = ys + ((std::size_t(b) * oh + oy) * ow + ox) * c;
        std::fill(m, m + c, 0.0f);
        for (int iy = y0; iy < y1; ++iy)
          for (int ix = x0; ix < x1; ++ix) {
            const float* __restrict v = xb + (std::size_t(iy) * w + ix) * c;
            for (int j = 0; j < c; ++j) m[j] += v[j];
          }
        for (int j = 0; j < c; ++j) m[j] *= scale;
      }
    }
  }
}

void AvgPool::backward(std::span<const Tensor* const> in, const Tensor& out, const Tensor& dout,
                       std::span<Tensor* const> din, const RunContext& ctx) {
  if (dout.device() == Device::CUDA) return backward_cuda(in, out, dout, din, ctx);
  Tensor* dx = din.empty() ? nullptr : din[0];
  if (!dx) return;
  const Tensor& x = *in[0];
  const int n = x.shape().n, h = in_.h, w = in_.w, c = in_.c;
  const int oh = out_.h, ow = out_.w, s = stride_, p = pad_;
  dx->resize(x.shape());
  const float scale = 1.0f / float(kh_ * kw_);
  const float* dy = dout.data();
  float* d = dx->data();
#pragma omp parallel for schedule(static) if(dx->size() >= kParallelMin)
  for (int b = 0; b < n; ++b) {  // each sample's outputs only reach that sample's inputs
    float* db = d + std::size_t(b) * h * w * c;
    std::memset(db, 0, sizeof(float) * h * w * c);
    for (int oy = 0; oy < oh; ++oy) {
      const int y0 = std::max(0, oy * s - p), y1 = std::min(h, oy * s - p + kh_);
      for (int ox = 0; ox < ow; ++ox) {
        const int x0 = std::max(0, ox * s - p), x1 = std::min(w, ox * s - p + kw_);
        const float* __restrict g = dy + ((std::size_t(b) * oh + oy) * ow + ox) * c;
        for (int iy = y0; iy < y1; ++iy)
          for (int ix = x0; ix < x1; ++ix) {
            float* __restrict v = db + (std::size_t(iy) * w + ix) * c;
            for (int j = 0; j < c; ++j) v[j] += g[j] * scale;
          }
      }
    }
  }
}

}  // namespace gg
