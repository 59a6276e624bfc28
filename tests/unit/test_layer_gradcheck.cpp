// Gradient checks of every layer and of the softmax cross-entropy loss against central differences.
#include <gtest/gtest.h>

#include "core/layers/add.hpp"
#include "core/layers/avg_pool.hpp"
#include "core/layers/batch_norm.hpp"
#include "core/layers/concat.hpp"
#include "core/layers/conv2d.hpp"
#include "core/layers/dense.hpp"
#include "core/layers/dropout.hpp"
#include "core/layers/lrn.hpp"
#include "core/layers/max_pool.hpp"
#include "core/layers/relu.hpp"
#include "core/layers/softmax_xent.hpp"
#include "tests/unit/test_layer_gradcheck_util.hpp"

namespace gg {
namespace {

using test::check_layer;
using test::GradCheckOptions;

std::vector<Tensor> tensors(std::initializer_list<Shape> shapes) {
  std::vector<Tensor> v;
  for (const Shape& s : shapes) v.emplace_back(s);
  return v;
}

TEST(LayerGradCheck, Conv2D) {
  struct Case { Conv2DOptions o; Shape in; };
  const Case cases[] = {
      {{.out_channels = 3, .kernel = 3, .stride = 1, .pad = 0, .bias = true}, {2, 5, 5, 2}},
      {{.out_channels = 4, .kernel = 3, .stride = 2, .pad = 1, .bias = true}, {2, 6, 7, 3}},
      {{.out_channels = 2, .kernel = 5, .stride = 1, .pad = 2, .bias = false}, {1, 5, 4, 2}},
      {{.out_channels = 3, .kernel = 2, .stride = 3, .pad = 1, .bias = true}, {2, 7, 5, 1}},
      {{.out_channels = 5, .kernel = 1, .stride = 1, .pad = 0, .bias = true}, {2, 3, 3, 4}},  // direct
      {{.out_channels = 2, .kernel = 1, .stride = 2, .pad = 0, .bias = true}, {2, 4, 4, 3}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE("kernel " + std::to_string(c.o.kernel) + " stride " + std::to_string(c.o.stride) +
                 " pad " + std::to_string(c.o.pad) + " in " + c.in.str());
    Conv2D layer(c.o);
    layer.set_name("conv");
    auto in = tensors({c.in});
    check_layer(layer, in);
  }
}

TEST(LayerGradCheck, Dense) {
  Dense a(DenseOptions{.out = 4, .bias = true});
  auto in = tensors({{3, 1, 1, 6}});
  check_layer(a, in);
  Dense b(DenseOptions{.out = 3, .bias = false});  // implicit flatten of a spatial input
  auto in2 = tensors({{2, 2, 3, 2}});
  check_layer(b, in2);
}

TEST(LayerGradCheck, ReLU) {
  ReLU layer;
  auto in = tensors({{2, 3, 3, 4}});
  Rng rng(3);
  test::fill_away_from_zero(in[0], rng, 0.1f, 1.0f);
  check_layer(layer, in, {}, /*filled=*/true);
}

TEST(LayerGradCheck, MaxPool) {
  struct Case { MaxPoolOptions o; Shape in; };
  const Case cases[] = {
      {{.kernel = 2, .stride = 2, .pad = 0}, {2, 4, 4, 3}},
      {{.kernel = 3, .stride = 2, .pad = 1}, {2, 5, 6, 2}},
      {{.kernel = 3, .stride = 1, .pad = 0}, {1, 5, 5, 2}},
  };
  for (const Case& c : cases) {
    MaxPool layer(c.o);
    auto in = tensors({c.in});
    Rng rng(4);
    test::fill_distinct(in[0], rng, 0.05f);
    check_layer(layer, in, {}, /*filled=*/true);
  }
}

TEST(LayerGradCheck, AvgPool) {
  struct Case { AvgPoolOptions o; Shape in; };
  const Case cases[] = {
      {{.kernel = 2, .stride = 2, .pad = 0, .global = false}, {2, 4, 4, 3}},
      {{.kernel = 3, .stride = 2, .pad = 1, .global = false}, {2, 5, 6, 2}},
      {{.kernel = 1, .stride = 1, .pad = 0, .global = true}, {2, 3, 5, 4}},
  };
  for (const Case& c : cases) {
    AvgPool layer(c.o);
    auto in = tensors({c.in});
    check_layer(layer, in);
  }
}

TEST(LayerGradCheck, LRN) {
  LRN strong(LRNOptions{.size = 3, .alpha = 1.0f, .beta = 0.75f, .k = 2.0f});
  auto in = tensors({{2, 2, 3, 7}});
  GradCheckOptions o;
  o.step = 1e-3f;
  check_layer(strong, in, o);
  LRN caffe(LRNOptions{});  // Caffe's defaults
  auto in2 = tensors({{2, 2, 2, 8}});
  check_layer(caffe, in2);
}

TEST(LayerGradCheck, Dropout) {
  Dropout layer(DropoutOptions{.rate = 0.4f});
  auto in = tensors({{2, 3, 3, 4}});
  GradCheckOptions o;
  o.ctx = {.phase = Phase::Train, .step_seed = 1234};
  check_layer(layer, in, o);
}

TEST(LayerGradCheck, BatchNormTrain) {
  BatchNorm layer(BatchNormOptions{});
  auto in = tensors({{3, 2, 3, 4}});
  GradCheckOptions o;
  o.step = 1e-3f;
  check_layer(layer, in, o);
}

TEST(LayerGradCheck, BatchNormEval) {
  BatchNorm layer(BatchNormOptions{});
  auto in = tensors({{3, 2, 2, 3}});
  GradCheckOptions o;
  o.ctx.phase = Phase::Eval;
  check_layer(layer, in, o);
}

TEST(LayerGradCheck, Add) {
  Add layer;
  auto in = tensors({{2, 3, 3, 2}, {2, 3, 3, 2}, {2, 3, 3, 2}});
  check_layer(layer, in);
  Add partial;  // a null din (the data, say) is skipped
  auto in2 = tensors({{2, 2, 2, 2}, {2, 2, 2, 2}});
  check_layer(partial, in2, {.check_input = {false, true}});
}

TEST(LayerGradCheck, Concat) {
  Concat layer;
  auto in = tensors({{2, 3, 2, 2}, {2, 3, 2, 5}, {2, 3, 2, 1}});
  check_layer(layer, in);
}

TEST(LayerGradCheck, SoftmaxXent) {
  Tensor logits({4, 1, 1, 7});
  Rng rng(9);
  test::fill_uniform(logits, rng, -3.0f, 3.0f);
  const std::vector<std::int32_t> labels{0, 6, 3, 3};
  Tensor d;
  softmax_xent(logits, labels, &d);
  ASSERT_EQ(d.shape(), logits.shape());
  const float step = 1e-2f;
  for (std::size_t i = 0; i < logits.size(); ++i) {
    const float saved = logits.data()[i];
    logits.data()[i] = saved + step;
    const double plus = softmax_xent(logits, labels, nullptr);
    logits.data()[i] = saved - step;
    const double minus = softmax_xent(logits, labels, nullptr);
    logits.data()[i] = saved;
    const double numeric = (plus - minus) / (2 * step);
    EXPECT_NEAR(d.data()[i], numeric, 1e-3) << "logit " << i;
  }
}

}  // namespace
}  // namespace gg
