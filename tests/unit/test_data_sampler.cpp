// ShardSampler, normalization and the synthetic dataset.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "core/data/normalize.hpp"
#include "core/data/sampler.hpp"
#include "core/data/synthetic.hpp"
#include "core/util/error.hpp"
#include "tests/unit/data_test_util.hpp"

namespace gg {
namespace {

using test::indexed;
using test::one_epoch;



TEST(DataSampler, ShardsAreDisjointAndCoverThePermutationPrefix) {
  const Dataset ds = indexed(103);
  for (int p : {1, 2, 3, 4, 7}) {
    const std::int64_t S = 103 / p;
    std::vector<std::int64_t> all;
    std::vector<std::int64_t> perm;
    for (int r = 0; r < p; ++r) {
      ShardSampler s(103, p, r, int(S), 42);  // one batch = the whole shard
      if (r == 0) perm = s.permutation();
      EXPECT_EQ(s.permutation(), perm);  // every worker draws the same permutation
      const auto ids = one_epoch(s, ds);
      ASSERT_EQ(std::int64_t(ids.size()), S);
      EXPECT_TRUE(std::equal(ids.begin(), ids.end(), perm.begin() + r * S));
      all.insert(all.end(), ids.begin(), ids.end());
    }
    EXPECT_EQ(std::set<std::int64_t>(all.begin(), all.end()).size(), all.size()) << "overlap, p=" << p;
    EXPECT_TRUE(std::equal(all.begin(), all.end(), perm.begin())) << "p=" << p;
    std::sort(perm.begin(), perm.end());
    for (std::int64_t i = 0; i < 103; ++i) ASSERT_EQ(perm[std::size_t(i)], i);  // a permutation
  }
}

TEST(DataSampler, EpochsDifferSeedsRepeat) {
  const Dataset ds = indexed(64);
  ShardSampler a(64, 2, 1, 8, 7), b(64, 2, 1, 8, 7), c(64, 2, 1, 8, 8);
  EXPECT_EQ(a.steps_per_epoch(), 4);
  const auto a0 = one_epoch(a, ds), a1 = one_epoch(a, ds);
  EXPECT_EQ(a.epoch(), 2);
  EXPECT_EQ(a.step_in_epoch(), 0);
  EXPECT_NE(a0, a1);
  EXPECT_EQ(one_epoch(b, ds), a0);
  EXPECT_NE(one_epoch(c, ds), a0);
  b.reset(1);  // resuming at epoch 1 replays epoch 1
  EXPECT_EQ(one_epoch(b, ds), a1);
}

TEST(DataSampler, DropLastAndPartialBatch) {
  const Dataset ds = indexed(50);
  ShardSampler keep(50, 2, 0, 10, 1, false), drop(50, 2, 0, 10, 1, true);
  EXPECT_EQ(keep.steps_per_epoch(), 3);  // 25 samples: 10, 10, 5
  EXPECT_EQ(drop.steps_per_epoch(), 2);
  Batch b;
  keep.next(ds, b), keep.next(ds, b);
  EXPECT_EQ(keep.step_in_epoch(), 2);
  keep.next(ds, b);
  EXPECT_EQ(b.size(), 5);
  EXPECT_EQ(b.x.shape().n, 5);
  EXPECT_EQ(keep.epoch(), 1);
}

TEST(DataSampler, NoAllocationAfterFirstStep) {
  const Dataset ds = indexed(40);
  ShardSampler s(40, 1, 0, 8, 3);
  Batch b;
  s.next(ds, b);
  const float* x = b.x.data();
  const auto* l = b.labels.data();
  const auto* i = b.ids.data();
  const auto* perm = s.permutation().data();
  for (int k = 0; k < 20; ++k) s.next(ds, b);  // crosses several epochs
  EXPECT_EQ(b.x.data(), x);
  EXPECT_EQ(b.labels.data(), l);
  EXPECT_EQ(b.ids.data(), i);
  EXPECT_EQ(s.permutation().data(), perm);
}

TEST(DataSampler, RejectsBadArguments) {
  auto msg = [](auto f) {
    try {
      f();
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(msg([] { ShardSampler(60000, 600, 3, 128, 1); })
                .find("batch 128 is larger than the 100 samples of worker 3's shard (60000 samples over 600 workers)"),
            std::string::npos);
  EXPECT_NE(msg([] { ShardSampler(100, 0, 0, 1, 1); }).find("workers must be >= 1"), std::string::npos);
  EXPECT_NE(msg([] { ShardSampler(100, 4, 4, 1, 1); }).find("worker index 4 is out of range [0, 4)"), std::string::npos);
  EXPECT_NE(msg([] { ShardSampler(100, 4, -1, 1, 1); }).find("out of range"), std::string::npos);
  EXPECT_NE(msg([] { ShardSampler(100, 4, 0, 0, 1); }).find("batch size must be >= 1"), std::string::npos);
  EXPECT_NE(msg([] { ShardSampler(3, 4, 0, 1, 1); }).find("shard is empty"), std::string::npos);
}

TEST(DataNormalize, ZeroMeanUnitStdPerChannel) {
  SyntheticSpec spec{8, 8, 3, 4, 5, 1.0f};
  Dataset train = make_synthetic(spec, 300, 0, "syn"), test = make_synthetic(spec, 100, 1, "syn");
  for (std::size_t i = 0; i < train.images.size(); ++i) train.images[i] = train.images[i] * float(i % 3 + 1) + float(i % 3);
  const Normalization n = fit_normalization(train);
  ASSERT_EQ(n.mean.size(), 3u);
  apply_normalization(train, n);
  apply_normalization(test, n);
  const Normalization after = fit_normalization(train);
  for (int c = 0; c < 3; ++c) {
    EXPECT_NEAR(after.mean[c], 0.0f, 1e-4);
    EXPECT_NEAR(after.stddev[c], 1.0f, 1e-4);
  }
  Dataset gray = make_synthetic({4, 4, 1, 2, 1, 1.0f}, 10, 0, "gray");
  EXPECT_THROW(apply_normalization(gray, n), InputError);
  // A constant channel is left finite.
  Dataset flat = gray;
  std::fill(flat.images.begin(), flat.images.end(), 0.5f);
  const Normalization fn = fit_normalization(flat);
  apply_normalization(flat, fn);
  for (float v : flat.images) ASSERT_EQ(v, 0.0f);
}

TEST(DataSynthetic, DeterministicPerSeedAndLearnable) {
  const SyntheticSpec spec{32, 32, 3, 10, 9, 1.0f};
  const Dataset a = make_synthetic(spec, 200, 0, "s"), b = make_synthetic(spec, 200, 0, "s");
  EXPECT_EQ(a.sample, (Shape{1, 32, 32, 3}));
  EXPECT_EQ(a.num_classes, 10);
  EXPECT_EQ(a.images, b.images);
  EXPECT_EQ(a.labels, b.labels);
  SyntheticSpec other = spec;
  other.seed = 10;
  EXPECT_NE(make_synthetic(other, 200, 0, "s").images, a.images);
  const Dataset test = make_synthetic(spec, 200, 1, "s");
  EXPECT_NE(test.images, a.images);
  std::set<int> classes(a.labels.begin(), a.labels.end());
  EXPECT_EQ(classes.size(), 10u);

  // Learnable: nearest class mean (fitted on train) classifies the test split well above chance.
  const std::size_t per = a.sample.per_sample();
  std::vector<double> mean(10 * per, 0.0);
  std::vector<int> count(10, 0);
  for (std::int64_t i = 0; i < a.size(); ++i) {
    ++count[a.labels[i]];
    for (std::size_t k = 0; k < per; ++k) mean[a.labels[i] * per + k] += a.image(i)[k];
  }
  int correct = 0;
  for (std::int64_t i = 0; i < test.size(); ++i) {
    int best = -1;
    double best_d = 1e300;
    for (int c = 0; c < 10; ++c) {
      if (!count[c]) continue;
      double d = 0;
      for (std::size_t k = 0; k < per; ++k) d += std::pow(test.image(i)[k] - mean[c * per + k] / count[c], 2);
      if (d < best_d) best_d = d, best = c;
    }
    correct += best == test.labels[i];
  }
  EXPECT_GT(correct, 150);  // chance is 20
  EXPECT_THROW(make_synthetic(spec, 0, 0, "s"), InputError);
}

}  // namespace
}  // namespace gg
