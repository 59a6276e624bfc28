// Model graph: flat parameter layout, gradient buckets, whole-graph gradients, named models.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <set>

#include "core/layers/softmax_xent.hpp"
#include "core/model/model_builder.hpp"
#include "core/optim/sgd.hpp"
#include "core/util/error.hpp"

namespace gg {
namespace {

using json = nlohmann::json;

// dense -> relu -> dense, a skip connection through `add` (two consumers of one node) and a concat.
json skip_model() {
  return json::parse(R"({"layers": [
    {"type": "dense", "name": "a", "out": 6},
    {"type": "relu", "name": "ra"},
    {"type": "dense", "name": "b", "out": 6},
    {"type": "add", "name": "sum", "inputs": ["b", "ra"]},
    {"type": "concat", "name": "cat", "inputs": ["sum", "a"]},
    {"type": "dense", "name": "c", "out": 3}
  ]})");
}

void fill(Tensor& t, std::uint64_t seed) {
  Rng r(seed);
  for (auto& v : t.span()) v = r.uniform() * 2 - 1;
}

double loss_of(Model& m, const Tensor& x, const std::vector<std::int32_t>& y) {
  return softmax_xent(m.forward(x, {Phase::Train, 0}), y, nullptr);
}

TEST(Model, LenetHasCaffesParameterCount) {
  auto m = build_model(json("lenet"), "model", {1, 28, 28, 1}, 10, 8);
  // conv1 20*25+20, conv2 50*500+50, ip1 800*500+500, ip2 500*10+10
  EXPECT_EQ(m->num_params(), 520u + 25050u + 400500u + 5010u);
}

TEST(Model, NamedModelsBuildAndRun) {
  for (const char* name : {"cifarnet", "resnet20"}) {
    auto m = build_model(json(name), "model", {1, 32, 32, 3}, 10, 2);
    m->init(3);
    Tensor x({2, 32, 32, 3});
    fill(x, 1);
    const Tensor& logits = m->forward(x, {Phase::Train, 0});
    EXPECT_EQ(logits.shape(), (Shape{2, 1, 1, 10})) << name;
    for (float v : logits.span()) EXPECT_TRUE(std::isfinite(v)) << name;
  }
  auto r = build_model(json("resnet20"), "model", {1, 32, 32, 3}, 10, 2);
  EXPECT_GT(r->num_params(), 260000u);  // ~0.27M in He et al.
  EXPECT_LT(r->num_params(), 280000u);
}

TEST(Model, BucketsTileParametersInBackwardOrder) {
  auto m = build_model(json("lenet"), "model", {1, 28, 28, 1}, 10, 4, 64 * 1024);
  const auto& b = m->buckets();
  ASSERT_GE(b.size(), 3u);
  std::size_t end = m->num_params();
  for (std::size_t i = 0; i < b.size(); ++i) {
    EXPECT_EQ(b[i].index, int(i));
    EXPECT_EQ(b[i].offset + b[i].count, end) << "bucket " << i << " is not contiguous with the previous";
    end = b[i].offset;
  }
  EXPECT_EQ(end, 0u);

  m->init(1);
  Tensor x({4, 28, 28, 1}), d;
  fill(x, 2);
  const Tensor& logits = m->forward(x, {});
  d.resize(logits.shape());
  fill(d, 3);
  std::vector<int> seen;
  m->backward(d, {}, [&](const Bucket& k) { seen.push_back(k.index); });
  std::vector<int> expect(b.size());
  for (std::size_t i = 0; i < expect.size(); ++i) expect[i] = int(i);
  EXPECT_EQ(seen, expect);
}

TEST(Model, WholeGraphGradientMatchesFiniteDifferences) {
  auto m = build_model(skip_model(), "model", {1, 1, 1, 5}, 3, 4);
  m->init(11);
  Tensor x({4, 1, 1, 5}), d;
  fill(x, 5);
  const std::vector<std::int32_t> y{0, 1, 2, 1};
  const Tensor& logits = m->forward(x, {});
  d.resize(logits.shape());
  softmax_xent(logits, y, &d);
  m->backward(d, {});
  const std::vector<float> analytic(m->grads().begin(), m->grads().end());
  auto p = m->params();
  for (std::size_t i = 0; i < p.size(); ++i) {
    const float keep = p[i], eps = 1e-2f;
    p[i] = keep + eps;
    const double up = loss_of(*m, x, y);
    p[i] = keep - eps;
    const double down = loss_of(*m, x, y);
    p[i] = keep;
    const double numeric = (up - down) / (2 * eps);
    EXPECT_NEAR(analytic[i], numeric, 2e-3 + 2e-2 * std::abs(numeric)) << "parameter " << i;
  }
}

TEST(Model, SameSeedGivesBitwiseIdenticalTraining) {
  auto run = [] {
    auto m = build_model(json("lenet"), "model", {1, 28, 28, 1}, 10, 8);
    m->init(7);
    Sgd sgd({0.9, 5e-4, true}, m->ranges(), m->num_params());
    Tensor x({8, 28, 28, 1}), d;
    std::vector<std::int32_t> y(8);
    std::vector<float> losses;
    fill(x, 100);  // one fixed batch: memorising it must lower the loss
    for (int i = 0; i < 8; ++i) y[std::size_t(i)] = i % 10;
    for (int step = 0; step < 5; ++step) {
      const Tensor& logits = m->forward(x, {Phase::Train, std::uint64_t(step)});
      d.resize(logits.shape());
      losses.push_back(softmax_xent(logits, y, &d));
      m->backward(d, {});
      sgd.step(m->params(), m->grads(), 0.001);
    }
    return losses;
  };
  const auto a = run(), b = run();
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_EQ(std::memcmp(&a[i], &b[i], sizeof(float)), 0);
  EXPECT_LT(a.back(), a.front());
}

TEST(Model, BadDescriptionsAreInputErrors) {
  auto expect_error = [](const json& spec, const std::string& needle) {
    try {
      build_model(spec, "model", {1, 8, 8, 1}, 10, 2);
      FAIL() << "no error for " << spec.dump();
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  expect_error(json("vgg99"), "unknown model 'vgg99'");
  expect_error(json::parse(R"({"layers": [{"type": "warp", "name": "w"}]})"), "warp");
  expect_error(json::parse(R"({"layers": [{"type": "conv2d", "name": "big", "out": 4, "kernel": 9},
                                          {"type": "dense", "out": 10}]})"), "big");
  expect_error(json::parse(R"({"layers": [{"type": "dense", "out": 10, "inputs": ["nope"]}]})"), "nope");
  expect_error(json::parse(R"({"layers": [{"type": "dense", "out": 7}]})"), "10 classes");
  expect_error(json::parse(R"({"layers": [{"type": "dense", "out": 10, "colour": 3}]})"), "colour");
}

}  // namespace
}  // namespace gg

namespace gg {
namespace {

// Central differences on a sample of every layer's parameters of the named models (double-checks
// layers in composition: padding, pooling windows, strides, skip connections).
void check_named_model_gradients(const char* name, Shape sample) {
  auto m = build_model(json(name), "model", sample, 10, 2);
  m->init(5);
  Tensor x(sample.with_batch(2)), d;
  fill(x, 9);
  const std::vector<std::int32_t> y{3, 7};
  const RunContext ctx{Phase::Train, 0};
  const Tensor& logits = m->forward(x, ctx);
  d.resize(logits.shape());
  softmax_xent(logits, y, &d);
  m->backward(d, ctx);
  const std::vector<float> analytic(m->grads().begin(), m->grads().end());
  auto p = m->params();
  int checked = 0, bad = 0;
  for (const auto& r : m->ranges()) {
    Rng pick(r.offset + 1);
    for (int k = 0; k < 6; ++k) {
      const std::size_t i = r.offset + pick.below(r.count);
      // Two step sizes: a max-pool switching its argmax inside [w-eps, w+eps] spoils one of them.
      const float keep = p[i];
      double numeric = 0;
      bool ok = false;
      for (const float eps : {2e-3f, 5e-4f}) {
        p[i] = keep + eps;
        const double up = softmax_xent(m->forward(x, ctx), y, nullptr);
        p[i] = keep - eps;
        const double down = softmax_xent(m->forward(x, ctx), y, nullptr);
        p[i] = keep;
        numeric = (up - down) / (2 * eps);
        ok = ok || std::abs(analytic[i] - numeric) <= 5e-3 + 5e-2 * std::abs(numeric);
      }
      ++checked;
      if (!ok) {
        ++bad;
        ADD_FAILURE() << name << " " << r.name << "[" << i - r.offset << "]: analytic " << analytic[i]
                      << " numeric " << numeric;
      }
    }
  }
  EXPECT_EQ(bad, 0) << "of " << checked;
}

TEST(Model, LenetGradientsMatchFiniteDifferences) { check_named_model_gradients("lenet", {1, 28, 28, 1}); }
TEST(Model, CifarnetGradientsMatchFiniteDifferences) { check_named_model_gradients("cifarnet", {1, 32, 32, 3}); }

}  // namespace
}  // namespace gg
