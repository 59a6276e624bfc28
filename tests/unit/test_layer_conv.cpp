// Conv2D against a naive convolution written here from the NHWC / [cout, kh, kw, cin] definitions,
// so that any layout bug in im2col, the GEMM call or col2im shows.
#include <gtest/gtest.h>

#include <cstring>

#include "core/layers/conv2d.hpp"
#include "core/layers/dense.hpp"
#include "core/util/error.hpp"
#include "tests/unit/test_layer_gradcheck_util.hpp"

namespace gg {
namespace {

struct Naive {
  Shape in, out;
  Conv2DOptions o;
  int oh() const { return (in.h + 2 * o.pad - o.kernel) / o.stride + 1; }
  int ow() const { return (in.w + 2 * o.pad - o.kernel) / o.stride + 1; }
  // x [n,h,w,cin], W [cout,k,k,cin] -> y [n,oh,ow,cout]
  float x(const std::vector<float>& v, int b, int y, int xx, int c) const {
    if (y < 0 || y >= in.h || xx < 0 || xx >= in.w) return 0.0f;
    return v[((std::size_t(b) * in.h + y) * in.w + xx) * in.c + c];
  }
  std::vector<float> forward(const std::vector<float>& xv, const std::vector<float>& w,
                             const std::vector<float>* bias) const {
    const int k = o.kernel, co = o.out_channels;
    std::vector<float> y(std::size_t(in.n) * oh() * ow() * co);
    for (int b = 0; b < in.n; ++b)
      for (int oy = 0; oy < oh(); ++oy)
        for (int ox = 0; ox < ow(); ++ox)
          for (int f = 0; f < co; ++f) {
            double s = bias ? (*bias)[f] : 0.0;
            for (int ky = 0; ky < k; ++ky)
              for (int kx = 0; kx < k; ++kx)
                for (int c = 0; c < in.c; ++c)
                  s += double(x(xv, b, oy * o.stride - o.pad + ky, ox * o.stride - o.pad + kx, c)) *
                       w[((std::size_t(f) * k + ky) * k + kx) * in.c + c];
            y[((std::size_t(b) * oh() + oy) * ow() + ox) * co + f] = float(s);
          }
    return y;
  }
  // dy [n,oh,ow,cout] -> dx [n,h,w,cin]: every tap scatters dy * w back to the pixel it read.
  std::vector<float> backward_input(const std::vector<float>& dy, const std::vector<float>& w) const {
    const int k = o.kernel, co = o.out_channels;
    std::vector<double> dx(std::size_t(in.n) * in.h * in.w * in.c, 0.0);
    for (int b = 0; b < in.n; ++b)
      for (int oy = 0; oy < oh(); ++oy)
        for (int ox = 0; ox < ow(); ++ox)
          for (int f = 0; f < co; ++f)
            for (int ky = 0; ky < k; ++ky)
              for (int kx = 0; kx < k; ++kx) {
                const int iy = oy * o.stride - o.pad + ky, ix = ox * o.stride - o.pad + kx;
                if (iy < 0 || iy >= in.h || ix < 0 || ix >= in.w) continue;
                for (int c = 0; c < in.c; ++c)
                  dx[((std::size_t(b) * in.h + iy) * in.w + ix) * in.c + c] +=
                      double(dy[((std::size_t(b) * oh() + oy) * ow() + ox) * co + f]) *
                      w[((std::size_t(f) * k + ky) * k + kx) * in.c + c];
              }
    return std::vector<float>(dx.begin(), dx.end());
  }
};

TEST(LayerConv, MatchesNaiveConvolution) {
  struct Case { Conv2DOptions o; Shape in; };
  const Case cases[] = {
      {{.out_channels = 4, .kernel = 3, .stride = 1, .pad = 0, .bias = true}, {2, 6, 5, 3}},
      {{.out_channels = 3, .kernel = 3, .stride = 2, .pad = 1, .bias = true}, {3, 7, 8, 2}},
      {{.out_channels = 5, .kernel = 5, .stride = 2, .pad = 2, .bias = true}, {2, 9, 6, 3}},
      {{.out_channels = 2, .kernel = 5, .stride = 1, .pad = 2, .bias = false}, {1, 5, 5, 1}},
      {{.out_channels = 6, .kernel = 1, .stride = 1, .pad = 0, .bias = true}, {2, 4, 3, 5}},
      {{.out_channels = 20, .kernel = 5, .stride = 1, .pad = 0, .bias = true}, {8, 28, 28, 1}},  // threaded
      {{.out_channels = 8, .kernel = 3, .stride = 2, .pad = 1, .bias = true}, {16, 17, 15, 6}},  // threaded
  };
  for (const Case& c : cases) {
    SCOPED_TRACE("kernel " + std::to_string(c.o.kernel) + " stride " + std::to_string(c.o.stride) +
                 " pad " + std::to_string(c.o.pad) + " in " + c.in.str());
    Conv2D layer(c.o);
    const Shape out = layer.setup(std::vector<Shape>{c.in});
    Naive ref{c.in, out, c.o};
    ASSERT_EQ(out, (Shape{c.in.n, ref.oh(), ref.ow(), c.o.out_channels}));
    test::ParamStore p;
    p.bind(layer, 3, 1.0f);
    Tensor x(c.in), y;
    Rng rng(21);
    test::fill_uniform(x, rng, -1.0f, 1.0f);
    const Tensor* ins[] = {&x};
    layer.forward(ins, y, {});
    ASSERT_EQ(y.shape(), out);
    const std::vector<float> xv(x.span().begin(), x.span().end());
    const auto want = ref.forward(xv, p.w[0], c.o.bias ? &p.w[1] : nullptr);
    ASSERT_EQ(want.size(), y.size());
    for (std::size_t i = 0; i < want.size(); ++i) ASSERT_NEAR(y.data()[i], want[i], 1e-4f) << "at " << i;

    Tensor dy(out), dx;
    test::fill_uniform(dy, rng, -1.0f, 1.0f);
    Tensor* din[] = {&dx};
    layer.backward(ins, y, dy, din, {});
    const auto want_dx = ref.backward_input(std::vector<float>(dy.span().begin(), dy.span().end()), p.w[0]);
    ASSERT_EQ(dx.shape(), c.in);
    for (std::size_t i = 0; i < want_dx.size(); ++i) ASSERT_NEAR(dx.data()[i], want_dx[i], 1e-4f) << "dx at " << i;
  }
}

TEST(LayerConv, SmallerBatchAfterSetup) {
  Conv2D layer(Conv2DOptions{.out_channels = 3, .kernel = 3, .stride = 2, .pad = 1, .bias = true});
  const Shape in{5, 7, 7, 2};
  const Shape out = layer.setup(std::vector<Shape>{in});
  test::ParamStore p;
  p.bind(layer);
  Tensor big(in), small(in.with_batch(2)), ybig, ysmall;
  Rng rng(2);
  test::fill_uniform(big, rng, -1.0f, 1.0f);
  std::copy(big.data(), big.data() + small.size(), small.data());
  const Tensor* a[] = {&big};
  const Tensor* b[] = {&small};
  layer.forward(a, ybig, {});
  layer.forward(b, ysmall, {});
  ASSERT_EQ(ysmall.shape(), out.with_batch(2));
  for (std::size_t i = 0; i < ysmall.size(); ++i) EXPECT_EQ(ysmall.data()[i], ybig.data()[i]);
  // Backward at the smaller batch writes a gradient of the smaller shape.
  Tensor dy(ysmall.shape()), dx;
  test::fill_uniform(dy, rng, -1.0f, 1.0f);
  Tensor* d[] = {&dx};
  layer.backward(b, ysmall, dy, d, {});
  EXPECT_EQ(dx.shape(), small.shape());
}

TEST(LayerConv, BitwiseDeterministic) {
  Conv2D layer(Conv2DOptions{.out_channels = 8, .kernel = 3, .stride = 1, .pad = 1, .bias = true});
  const Shape in{16, 12, 12, 4};  // im2col large enough to run on several threads
  layer.setup(std::vector<Shape>{in});
  test::ParamStore p;
  p.bind(layer);
  Tensor x(in), y1, y2, dy, dx1, dx2;
  Rng rng(8);
  test::fill_uniform(x, rng, -1.0f, 1.0f);
  const Tensor* ins[] = {&x};
  layer.forward(ins, y1, {});
  dy.resize(y1.shape());
  test::fill_uniform(dy, rng, -1.0f, 1.0f);
  Tensor* d1[] = {&dx1};
  layer.backward(ins, y1, dy, d1, {});
  const std::vector<float> g1 = p.g[0];
  layer.forward(ins, y2, {});
  Tensor* d2[] = {&dx2};
  layer.backward(ins, y2, dy, d2, {});
  EXPECT_EQ(0, std::memcmp(y1.data(), y2.data(), y1.size() * sizeof(float)));
  EXPECT_EQ(0, std::memcmp(dx1.data(), dx2.data(), dx1.size() * sizeof(float)));
  EXPECT_EQ(g1, p.g[0]);
}

TEST(LayerConv, KernelLargerThanInputThrows) {
  Conv2D layer(Conv2DOptions{.out_channels = 4, .kernel = 7, .stride = 1, .pad = 0, .bias = true});
  layer.set_name("conv1");
  try {
    layer.setup(std::vector<Shape>{{1, 5, 5, 3}});
    FAIL() << "no InputError";
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(), "layer 'conv1' (conv2d): kernel 7 larger than padded input 5x5");
  }
  Conv2D padded(Conv2DOptions{.out_channels = 4, .kernel = 7, .stride = 1, .pad = 1, .bias = true});
  EXPECT_NO_THROW(padded.setup(std::vector<Shape>{{1, 5, 5, 3}}));  // 7x7 padded input fits
  Conv2D two(Conv2DOptions{.out_channels = 1, .kernel = 3});
  EXPECT_THROW(two.setup(std::vector<Shape>{{1, 5, 5, 3}, {1, 5, 5, 3}}), InputError);
}

TEST(LayerConv, FlopsAndParams) {
  Conv2D layer(Conv2DOptions{.out_channels = 20, .kernel = 5, .stride = 1, .pad = 0, .bias = true});
  EXPECT_EQ(layer.setup(std::vector<Shape>{{64, 28, 28, 1}}), (Shape{64, 24, 24, 20}));
  EXPECT_DOUBLE_EQ(layer.forward_flops_per_sample(), 2.0 * 24 * 24 * 20 * 25);
  const auto ps = layer.params();
  ASSERT_EQ(ps.size(), 2u);
  EXPECT_EQ(ps[0].count, 20u * 25);
  EXPECT_EQ(ps[0].init, Init::Kaiming);
  EXPECT_FLOAT_EQ(ps[0].fan_in, 25.0f);
  EXPECT_EQ(ps[1].count, 20u);
  EXPECT_FALSE(ps[1].decay);
  Dense fc(DenseOptions{.out = 500});
  EXPECT_EQ(fc.setup(std::vector<Shape>{{64, 4, 4, 50}}), (Shape{64, 1, 1, 500}));
  EXPECT_EQ(fc.params()[0].count, 500u * 800);
}

}  // namespace
}  // namespace gg
