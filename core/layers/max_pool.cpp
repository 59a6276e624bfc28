#include "core/layers/max_pool.hpp"

#include <algorithm>
#include <climits>
#include <cstring>

#include "core/layers/layer_util.hpp"

namespace gg {

namespace {

struct Window {
  int y0, y1, x0, x1;  // the window's cells inside the image: rows [y0, y1), columns [x0, x1)
};

// L floats and L int32 as one vector each (a dependent vector_size is not allowed, hence one per width).
template <int L>
struct Lanes;
template <>
struct Lanes<16> {
  typedef float F __attribute__((vector_size(64)));
  typedef std::int32_t I __attribute__((vector_size(64)));
};
template <>
struct Lanes<8> {
  typedef float F __attribute__((vector_size(32)));
  typedef std::int32_t I __attribute__((vector_size(32)));
};
template <>
struct Lanes<4> {
  typedef float F __attribute__((vector_size(16)));
  typedef std::int32_t I __attribute__((vector_size(16)));
};

// Channels [j, j + L) of one output pixel: the maximum over the window's cells and its input index
// (the first maximum wins). L lanes are one vector (GCC/Clang vector extensions; c = 20 is one
// 16-lane and one 4-lane call), L = 1 is the scalar tail.
template <int L>
inline void window_max(const float* __restrict xb, int w, int c, Window win, int first, int j,
                       float* __restrict m, std::int32_t* __restrict a) {
  if constexpr (L == 1) {
    float mv = xb[first + j];
    std::int32_t av = first + j;
    for (int iy = win.y0; iy < win.y1; ++iy)
      for (int ix = win.x0; ix < win.x1; ++ix) {
        const int base = (iy * w + ix) * c + j;
        if (xb[base] > mv) mv = xb[base], av = base;
      }
    m[j] = mv;
    a[j] = av;
  } else {
    using F = typename Lanes<L>::F;
    using I = typename Lanes<L>::I;
    I lane;
    for (int l = 0; l < L; ++l) lane[l] = l;
    F mv;
    std::memcpy(&mv, xb + first + j, sizeof mv);
    I av = lane + (first + j);
    for (int iy = win.y0; iy < win.y1; ++iy)
      for (int ix = win.x0; ix < win.x1; ++ix) {
        const int base = (iy * w + ix) * c + j;
        F v;
        std::memcpy(&v, xb + base, sizeof v);
        const I gt = v > mv;
        av = gt ? lane + base : av;
        mv = gt ? v : mv;
      }
    std::memcpy(m + j, &mv, sizeof mv);
    std::memcpy(a + j, &av, sizeof av);
  }
}

}  // namespace

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
        int j = 0;
        for (; j + 16 <= c; j += 16) window_max<16>(xb, w, c, {y0, y1, x0, x1}, first, j, m, a);
        if (j + 8 <= c) window_max<8>(xb, w, c, {y0, y1, x0, x1}, first, j, m, a), j += 8;
        if (j + 4 <= c) window_max<4>(xb, w, c, {y0, y1, x0, x1}, first, j, m, a), j += 4;
        for (; j < c; ++j) window_max<1>(xb, w, c, {y0, y1, x0, x1}, first, j, m, a);
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
