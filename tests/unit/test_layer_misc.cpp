// Behaviour beyond gradients: phases, running statistics, determinism, the loss and accuracy helpers.
#include <gtest/gtest.h>

#include <omp.h>

#include <cmath>
#include <functional>
#include <memory>

#include "core/layers/add.hpp"
#include "core/layers/avg_pool.hpp"
#include "core/layers/conv2d.hpp"
#include "core/layers/dense.hpp"
#include "core/layers/lrn.hpp"
#include "core/layers/batch_norm.hpp"
#include "core/layers/concat.hpp"
#include "core/layers/dropout.hpp"
#include "core/layers/max_pool.hpp"
#include "core/layers/relu.hpp"
#include "core/layers/softmax_xent.hpp"
#include "core/util/error.hpp"
#include "tests/unit/test_layer_gradcheck_util.hpp"

namespace gg {
namespace {

TEST(LayerDropout, EvalIsIdentity) {
  Dropout layer(DropoutOptions{.rate = 0.5f});
  const Shape s{4, 3, 3, 5};
  layer.setup(std::vector<Shape>{s});
  Tensor x(s), y, dy(s), dx;
  Rng rng(1);
  test::fill_uniform(x, rng, -1.0f, 1.0f);
  test::fill_uniform(dy, rng, -1.0f, 1.0f);
  const Tensor* in[] = {&x};
  Tensor* din[] = {&dx};
  const RunContext eval{.phase = Phase::Eval, .step_seed = 3};
  layer.forward(in, y, eval);
  layer.backward(in, y, dy, din, eval);
  for (std::size_t i = 0; i < x.size(); ++i) {
    EXPECT_EQ(y.data()[i], x.data()[i]);
    EXPECT_EQ(dx.data()[i], dy.data()[i]);
  }
}

TEST(LayerDropout, TrainMaskIsSeededAndScaled) {
  const Shape s{8, 8, 8, 16};
  Tensor x(s);
  for (float& v : x.span()) v = 1.0f;
  const Tensor* in[] = {&x};
  auto run = [&](int index, std::uint64_t seed) {
    Dropout layer(DropoutOptions{.rate = 0.25f});
    layer.set_index(index);
    layer.setup(std::vector<Shape>{s});
    Tensor y;
    layer.forward(in, y, {.phase = Phase::Train, .step_seed = seed});
    return std::vector<float>(y.span().begin(), y.span().end());
  };
  const auto a = run(2, 7), b = run(2, 7), c = run(2, 8), d = run(3, 7);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  EXPECT_NE(a, d);
  std::size_t kept = 0;
  for (float v : a) {
    EXPECT_TRUE(v == 0.0f || std::fabs(v - 1.0f / 0.75f) < 1e-6f) << v;
    kept += v != 0.0f;
  }
  EXPECT_NEAR(double(kept) / a.size(), 0.75, 0.03);
}

TEST(LayerBatchNorm, EvalUsesRunningStatistics) {
  BatchNorm layer(BatchNormOptions{.momentum = 0.5f, .eps = 1e-5f});
  const Shape s{4, 2, 2, 2};
  layer.setup(std::vector<Shape>{s});
  test::ParamStore p;
  p.bind(layer);
  p.w[0] = {2.0f, 0.5f};  // gamma
  p.w[1] = {0.1f, -1.0f}; // beta
  Tensor x(s), y;
  // Channel 0 holds 0..15, channel 1 holds 10 * (0..15).
  for (int r = 0; r < 16; ++r) x.data()[r * 2] = float(r), x.data()[r * 2 + 1] = 10.0f * r;
  const Tensor* in[] = {&x};
  layer.forward(in, y, {.phase = Phase::Train});
  // Batch mean 7.5 / 75, unbiased variance 22.667 / 2266.7; running = 0.5 * init + 0.5 * batch.
  const double var0 = (16.0 * 16 - 1) / 12 * 16 / 15;  // population (m^2 - 1) / 12, times m / (m - 1)
  EXPECT_NEAR(layer.running_mean()[0], 0.5 * 7.5, 1e-5);
  EXPECT_NEAR(layer.running_mean()[1], 0.5 * 75, 1e-4);
  EXPECT_NEAR(layer.running_var()[0], 0.5 * 1 + 0.5 * var0, 1e-3);
  EXPECT_NEAR(layer.running_var()[1], 0.5 * 1 + 0.5 * 100 * var0, 1e-1);
  // Train output is normalised with batch statistics: channel 0 has mean beta.
  double m0 = 0;
  for (int r = 0; r < 16; ++r) m0 += y.data()[r * 2];
  EXPECT_NEAR(m0 / 16, 0.1, 1e-5);

  layer.forward(in, y, {.phase = Phase::Eval});
  for (int r = 0; r < 16; ++r)
    for (int j = 0; j < 2; ++j) {
      const double want = p.w[0][j] * (x.data()[r * 2 + j] - layer.running_mean()[j]) /
                              std::sqrt(layer.running_var()[j] + 1e-5) + p.w[1][j];
      EXPECT_NEAR(y.data()[r * 2 + j], want, 1e-4);
    }
  const std::vector<float> rm(layer.running_mean().begin(), layer.running_mean().end());
  layer.forward(in, y, {.phase = Phase::Eval});  // Eval leaves the running statistics alone
  EXPECT_EQ(rm, std::vector<float>(layer.running_mean().begin(), layer.running_mean().end()));
}

TEST(LayerMaxPool, PicksWindowMaximumAndRoutesGradient) {
  MaxPool layer(MaxPoolOptions{.kernel = 2, .stride = 2, .pad = 0});
  const Shape s{1, 2, 4, 1};
  layer.setup(std::vector<Shape>{s});
  Tensor x(s), y, dy, dx;
  const float v[] = {1, 5, 2, 0, 3, 4, 7, 6};  // rows [1 5 2 0], [3 4 7 6]
  std::copy(v, v + 8, x.data());
  const Tensor* in[] = {&x};
  layer.forward(in, y, {});
  ASSERT_EQ(y.shape(), (Shape{1, 1, 2, 1}));
  EXPECT_EQ(y.data()[0], 5.0f);
  EXPECT_EQ(y.data()[1], 7.0f);
  dy.resize(y.shape());
  dy.data()[0] = 10, dy.data()[1] = 20;
  Tensor* din[] = {&dx};
  layer.backward(in, y, dy, din, {});
  const float want[] = {0, 10, 0, 0, 0, 0, 20, 0};
  for (int i = 0; i < 8; ++i) EXPECT_EQ(dx.data()[i], want[i]) << i;
}

TEST(LayerShapes, AddAndConcatRejectMismatch) {
  Add add;
  EXPECT_THROW(add.setup(std::vector<Shape>{{2, 3, 3, 4}, {2, 3, 3, 5}}), InputError);
  EXPECT_THROW(add.setup(std::vector<Shape>{{2, 3, 3, 4}}), InputError);
  Concat cat;
  EXPECT_THROW(cat.setup(std::vector<Shape>{{2, 3, 3, 4}, {2, 3, 2, 4}}), InputError);
  MaxPool pool(MaxPoolOptions{.kernel = 5, .stride = 1, .pad = 0});
  EXPECT_THROW(pool.setup(std::vector<Shape>{{1, 4, 4, 1}}), InputError);
}

TEST(LayerSoftmaxXent, KnownValuesAndStability) {
  Tensor logits({2, 1, 1, 3});
  const float v[] = {0, 0, 0, 1000, 0, -1000};  // uniform; and a huge margin (must not overflow)
  std::copy(v, v + 6, logits.data());
  const std::vector<std::int32_t> labels{1, 0};
  Tensor d;
  const float loss = softmax_xent(logits, labels, &d);
  EXPECT_NEAR(loss, std::log(3.0) / 2, 1e-6);
  EXPECT_NEAR(d.data()[0], 1.0 / 6, 1e-6);
  EXPECT_NEAR(d.data()[1], (1.0 / 3 - 1) / 2, 1e-6);
  EXPECT_NEAR(d.data()[3], 0.0, 1e-6);
  for (float g : d.span()) EXPECT_TRUE(std::isfinite(g));
  const std::vector<std::int32_t> bad{1, 3};
  EXPECT_THROW(softmax_xent(logits, bad, nullptr), InputError);
}

TEST(LayerSoftmaxXent, TopKCounts) {
  Tensor logits({3, 1, 1, 7});
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 7; ++j) logits.data()[i * 7 + j] = float(j);  // class 6 largest, 0 smallest
  int top1 = -1, top5 = -1;
  topk_correct(logits, std::vector<std::int32_t>{6, 2, 1}, &top1, &top5);
  EXPECT_EQ(top1, 1);  // only label 6
  EXPECT_EQ(top5, 2);  // 6 and 2 are among the five largest (6..2), 1 is not
  Tensor few({2, 1, 1, 3});
  few.zero();  // ties go to the lower index
  topk_correct(few, std::vector<std::int32_t>{0, 2}, &top1, &top5);
  EXPECT_EQ(top1, 1);
  EXPECT_EQ(top5, 2);  // fewer than 5 classes: every label counts
  few.data()[0] = NAN;
  topk_correct(few, std::vector<std::int32_t>{0, 2}, &top1, &top5);
  EXPECT_EQ(top5, 1);
}

// The OpenMP loops split work by sample only, so outputs and gradients are bitwise identical for any
// thread count (shapes big enough to actually go parallel).
TEST(LayerThreads, ResultsIndependentOfThreadCount) {
  // Conv2D and Dense split their GEMMs among the threads (core/layers/thread_split.hpp): odd channel
  // counts and batches make uneven splits, 1x1 takes the direct path, stride 2 the padded borders.
  struct Case {
    std::function<std::unique_ptr<Layer>()> make;
    Shape in;
  };
  const Shape s{16, 24, 24, 12};
  const std::vector<Case> cases = {
      {[] { return std::make_unique<Conv2D>(Conv2DOptions{.out_channels = 8, .kernel = 3, .stride = 1, .pad = 1}); }, s},
      {[] { return std::make_unique<Conv2D>(Conv2DOptions{.out_channels = 7, .kernel = 5, .stride = 2, .pad = 2}); },
       {13, 20, 20, 3}},
      {[] { return std::make_unique<Conv2D>(Conv2DOptions{.out_channels = 33, .kernel = 1}); }, {11, 16, 16, 9}},
      {[] { return std::make_unique<Dense>(DenseOptions{.out = 37}); }, {29, 5, 5, 50}},
      {[] { return std::make_unique<MaxPool>(MaxPoolOptions{.kernel = 3, .stride = 2, .pad = 1}); }, s},
      {[] { return std::make_unique<AvgPool>(AvgPoolOptions{.kernel = 3, .stride = 2, .pad = 1}); }, s},
      {[] { return std::make_unique<LRN>(LRNOptions{}); }, s},
      {[] { return std::make_unique<ReLU>(); }, s},
      {[] { return std::make_unique<BatchNorm>(BatchNormOptions{}); }, s},
  };
  const int saved = omp_get_max_threads();
  for (const auto& c : cases) {
    Tensor x(c.in);
    Rng rng(17);
    test::fill_uniform(x, rng, -1.0f, 1.0f);
    std::vector<float> first_y, first_dx;
    std::vector<std::vector<float>> first_g;
    for (int threads : {1, 2, 3}) {
      omp_set_num_threads(threads);
      auto layer = c.make();
      const Shape out = layer->setup(std::vector<Shape>{c.in});
      test::ParamStore p;
      p.bind(*layer);
      Tensor y, dy(out), dx;
      Rng r(5);
      test::fill_uniform(dy, r, -1.0f, 1.0f);
      const Tensor* in[] = {&x};
      Tensor* din[] = {&dx};
      layer->forward(in, y, {});
      layer->backward(in, y, dy, din, {});
      std::vector<float> yv(y.span().begin(), y.span().end()), dxv(dx.span().begin(), dx.span().end());
      if (first_y.empty()) {
        first_y = yv, first_dx = dxv, first_g = p.g;
      } else {
        EXPECT_EQ(yv, first_y) << layer->kind() << " at " << threads << " threads";
        EXPECT_EQ(dxv, first_dx) << layer->kind() << " at " << threads << " threads";
        EXPECT_EQ(p.g, first_g) << layer->kind() << " parameter gradients at " << threads << " threads";
      }
    }
  }
  omp_set_num_threads(saved);
}

}  // namespace
}  // namespace gg
