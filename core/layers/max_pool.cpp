#include "core/layers/max_pool.hpp"

#include <algorithm>
#include <climits>
#include <cstring>

#include "core/layers/layer_util.hpp"

namespace gg {

MaxPool::MaxPool(MaxPoolOptions opts) : o_(opts) {}

Shape MaxPool::setup(std::span<const Shape> in) {
  expect_inputs(*this, in, 1, 1);
  if (o_.kernel < 1 || o_.stride < 1 || o_.pad < 0) layer_fail(*this, "needs kernel >= 1, stride >= 1, pad >= 0");
  if (o_.pad >= o_.kernel)
    layer_fail(*this, "pad " + std::to_string(o_.pad) + " must be smaller than kernel " +
                          std::to_string(o_.kernel));
  in_ = in[0];
  if (in_.per_sample() > std::size_t(INT_MAX)) layer_fail(*this, "input too large: " + in_.str());
  const int ph = in_.h + 2 * o_.pad, pw = in_.w + 2 * o_.pad;
  if (o_.kernel > ph || o_.kernel > pw)
    layer_fail(*this, "kernel " + std::to_string(o_.kernel) + " larger than padded input " +
                          std::to_string(ph) + "x" + std::to_string(pw));
  out_ = {in_.n, window_out(in_.h, o_.kernel, o_.stride, o_.pad),
          window_out(in_.w, o_.kernel, o_.stride, o_.pad), in_.c};
  return out_;
}

void MaxPool::forward(std::span<const Tensor* const> in, Tensor& out, const RunContext& ctx) {
  if (in[0]->device() == Device::CUDA) return forward_cuda(in, out, ctx);
  const Tensor& x = *in[0];
  const int n = x.shape().n, h = in_.h, w = in_.w, c = in_.c;
  const int oh = out_.h, ow = out_.w, k = o_.kernel, s = o_.stride, p = o_.pad;
  out.resize(out_.with_batch(n));
  argmax_.resize(out.size());
  const float* xs = x.data();
  float* ys = out.data();
  std::int32_t* am = argmax_.data();
#pragma omp parallel for schedule(static) if(x.size() >= kParallelMin)
  for (int b = 0; b < n; ++b) {
    const float* xb = xs + std::size_t(b) * h * w * c;
    for (int oy = 0; oy < oh; ++oy) {
      const int y0 = std::max(0, oy * s - p), y1 = std::min(h, oy * s - p + k);
      for (int ox = 0; ox < ow; ++ox) {
        const int x0 = std::max(0, ox * s - p), x1 = std::min(w, ox * s - p + k);
        const std::size_t o = ((std::size_t(b) * oh + oy) * ow + ox) * c;
        float* __restrict m = ys + o;
        std::int32_t* __restrict a = am + o;
        const int first = (y0 * w + x0) * c;  // the window always holds >= 1 real cell (pad < kernel)
        for (int j = 0; j < c; ++j) {
          m[j] = xb[first + j];
          a[j] = first + j;
        }
        for (int iy = y0; iy < y1; ++iy)
          for (int ix = x0; ix < x1; ++ix) {
            const int base = (iy * w + ix) * c;
            const float* __restrict v = xb + base;
            for (int j = 0; j < c; ++j)
              if (v[j] > m[j]) {  // strict: the first maximum wins
                m[j] = v[j];
                a[j] = base + j;
              }
          }
      }
    }
  }
}

void MaxPool::backward(std::span<const Tensor* const> in, const Tensor& out, const Tensor& dout,
                       std::span<Tensor* const> din, const RunContext& ctx) {
  if (dout.device() == Device::CUDA) return backward_cuda(in, out, dout, din, ctx);
  Tensor* dx = din.empty() ? nullptr : din[0];
  if (!dx) return;
  const Tensor& x = *in[0];
  const int n = x.shape().n;
  dx->resize(x.shape());
  const std::size_t per_in = in_.per_sample(), per_out = out_.per_sample();
  const float* dy = dout.data();
  const std::int32_t* am = argmax_.data();
  float* d = dx->data();
#pragma omp parallel for schedule(static) if(dx->size() >= kParallelMin)
  for (int b = 0; b < n; ++b) {  // each sample's outputs only reach that sample's inputs
    float* db = d + b * per_in;
    std::memset(db, 0, sizeof(float) * per_in);
    const float* g = dy + b * per_out;
    const std::int32_t* a = am + b * per_out;
    for (std::size_t i = 0; i < per_out; ++i) db[a[i]] += g[i];
  }
}

}  // namespace gg
