// Label-skewed partitions (core/data/label_partition.hpp): "classes" and "dirichlet" on synthetic
// labels, their config keys, and the sampler serving an owned set.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/config/json_reader.hpp"
#include "core/data/datasets.hpp"
#include "core/data/label_partition.hpp"
#include "core/data/sampler.hpp"
#include "core/util/error.hpp"
#include "core/util/rng.hpp"

namespace gg {
namespace {

using Ids = std::vector<std::int64_t>;
using Labels = std::vector<std::int32_t>;
constexpr int kC = 10;

// n labels in [0, c), drawn from a seeded generator (uneven class sizes).
Labels random_labels(std::int64_t n, int c, std::uint64_t seed) {
  Rng rng(seed);
  Labels l(static_cast<std::size_t>(n));
  for (auto& x : l) x = std::int32_t(rng.below(std::uint64_t(c)));
  return l;
}

// n labels, every class exactly n / c times, interleaved.
Labels balanced_labels(std::int64_t n, int c) {
  Labels l(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) l[std::size_t(i)] = std::int32_t(i % c);
  return l;
}

PartitionSpec classes(int k) {
  PartitionSpec s;
  s.kind = Partition::Classes;
  s.classes_per_worker = k;
  return s;
}

PartitionSpec dirichlet(double alpha) {
  PartitionSpec s;
  s.kind = Partition::Dirichlet;
  s.dirichlet_alpha = alpha;
  return s;
}

int distinct(const std::vector<std::int64_t>& hist, int worker, int c) {
  int d = 0;
  for (int k = 0; k < c; ++k) d += hist[std::size_t(worker * c + k)] > 0;
  return d;
}

// Disjoint, S each, the rest owned by nobody, histogram rows summing to S and matching the sets.
void expect_exact_split(const std::vector<std::int32_t>& owners, const Labels& labels, int p, const std::string& what) {
  const std::int64_t n = std::int64_t(labels.size()), s = n / p;
  const std::vector<std::int64_t> hist = class_histogram(owners, labels, kC, p);
  std::int64_t unowned = 0;
  for (std::int32_t o : owners) {
    ASSERT_GE(o, -1) << what;
    ASSERT_LT(o, p) << what;
    unowned += o < 0;
  }
  EXPECT_EQ(unowned, n - std::int64_t(p) * s) << what;
  for (int r = 0; r < p; ++r) {
    const Ids mine = samples_of(owners, r);
    EXPECT_EQ(std::int64_t(mine.size()), s) << what << " worker " << r;
    EXPECT_TRUE(std::is_sorted(mine.begin(), mine.end())) << what;
    std::int64_t row = 0;
    for (int k = 0; k < kC; ++k) row += hist[std::size_t(r * kC + k)];
    EXPECT_EQ(row, s) << what << " worker " << r;
  }
}

const std::vector<int> kWorkerCounts = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 32, 128};

TEST(LabelPartition, ClassesSplitsExactlyAndBoundsTheLabelsPerWorker) {
  const Labels labels = random_labels(12007, kC, 3);
  std::vector<std::int64_t> count(kC, 0);
  for (auto l : labels) ++count[std::size_t(l)];
  const std::int64_t smallest = *std::min_element(count.begin(), count.end());
  for (int k : {1, 2, 3, 10})
    for (int p : kWorkerCounts) {
      const std::string what = "classes k=" + std::to_string(k) + " p=" + std::to_string(p);
      const auto owners = partition_owners(classes(k), labels, kC, p, 7);
      expect_exact_split(owners, labels, p, what);
      // A piece straddles at most one label boundary when no class is smaller than a piece.
      const std::int64_t s = std::int64_t(labels.size()) / p, piece = (s + k - 1) / k;
      if (piece > smallest) continue;
      const auto hist = class_histogram(owners, labels, kC, p);
      for (int r = 0; r < p; ++r) EXPECT_LE(distinct(hist, r, kC), std::min(2 * k, kC)) << what << " worker " << r;
    }
}

TEST(LabelPartition, ClassesPiecesAlignedWithTheClassesGiveAtMostKLabels) {
  // Every class holds a whole number of pieces (N = p*S, class size = m pieces): no piece straddles.
  for (int k : {1, 2, 5})
    for (int p : {10, 20, 30, 40, 160}) {
      const std::int64_t q = 7, s = k * q, n = std::int64_t(p) * s;  // p*k pieces of q, p*k/10 per class
      const Labels labels = balanced_labels(n, kC);
      const auto owners = partition_owners(classes(k), labels, kC, p, 11);
      expect_exact_split(owners, labels, p, "aligned");
      const auto hist = class_histogram(owners, labels, kC, p);
      for (int r = 0; r < p; ++r) {
        EXPECT_LE(distinct(hist, r, kC), k) << "k=" << k << " p=" << p << " worker " << r;
        for (int c = 0; c < kC; ++c) EXPECT_EQ(hist[std::size_t(r * kC + c)] % q, 0);  // whole pieces
      }
    }
}

TEST(LabelPartition, DirichletSplitsExactly) {
  const Labels labels = random_labels(12007, kC, 5);
  for (double alpha : {0.01, 0.5, 100.0})
    for (int p : kWorkerCounts)
      expect_exact_split(partition_owners(dirichlet(alpha), labels, kC, p, 7), labels, p,
                         "dirichlet alpha=" + std::to_string(alpha) + " p=" + std::to_string(p));
}

TEST(LabelPartition, DeterministicForASeedAndDifferentForAnother) {
  const Labels labels = random_labels(5000, kC, 9);
  for (const PartitionSpec& spec : {classes(2), dirichlet(0.5)})
    for (int p : {2, 7, 16}) {
      const auto a = partition_owners(spec, labels, kC, p, 21);
      EXPECT_EQ(a, partition_owners(spec, labels, kC, p, 21));
      EXPECT_NE(a, partition_owners(spec, labels, kC, p, 22));
    }
}

TEST(LabelPartition, FixedOwnersAreTheSamplersFixedPartitions) {
  const Labels labels = random_labels(1003, kC, 1);
  PartitionSpec fixed;
  fixed.kind = Partition::Fixed;
  for (int p : {1, 3, 8, 17}) {
    const auto owners = partition_owners(fixed, labels, kC, p, 42);
    for (int r = 0; r < p; ++r) EXPECT_EQ(samples_of(owners, r), ShardSampler::fixed_partition(1003, p, r, 42));
  }
}

// Mean over workers of the largest class's share of the worker's samples.
double mean_top_share(const std::vector<std::int64_t>& hist, int p, std::int64_t s) {
  double sum = 0;
  for (int r = 0; r < p; ++r)
    sum += double(*std::max_element(hist.begin() + r * kC, hist.begin() + (r + 1) * kC)) / double(s);
  return sum / p;
}

TEST(LabelPartition, DirichletConcentrationGovernsTheSkew) {
  const int p = 20;
  const std::int64_t n = 80000, s = n / p;  // 8000 per class, 4000 per worker
  const Labels labels = balanced_labels(n, kC);
  // Large alpha: every worker close to S / C = 400 of every class.
  const auto flat = class_histogram(partition_owners(dirichlet(1e4), labels, kC, p, 3), labels, kC, p);
  for (std::int64_t v : flat) {
    EXPECT_GE(v, 360);
    EXPECT_LE(v, 440);
  }
  EXPECT_LT(mean_top_share(flat, p, s), 0.12);
  // Small alpha: each worker dominated by one class (uniform: 0.1; these seeds give about 0.6, the
  // limit being the supply: every sample is dealt, so the last workers served take what is left).
  for (std::uint64_t seed : {1, 2, 3}) {
    const auto skew = class_histogram(partition_owners(dirichlet(0.05), labels, kC, p, seed), labels, kC, p);
    EXPECT_GT(mean_top_share(skew, p, s), 0.45) << "seed " << seed;
  }
}

TEST(LabelPartition, DirichletDrawsHaveTheDirichletMeanAndVariance) {
  // Var q_c = (1/C)(1 - 1/C) / (C alpha + 1); both branches of the gamma sampler (alpha < 1 and >= 1).
  const int c = 4, draws = 20000;
  for (double alpha : {0.3, 3.0}) {
    Rng rng(17);
    std::vector<double> sum(c, 0), sq(c, 0);
    for (int i = 0; i < draws; ++i) {
      const auto q = dirichlet_sample(rng, alpha, c);
      EXPECT_NEAR(std::accumulate(q.begin(), q.end(), 0.0), 1.0, 1e-12);
      for (int k = 0; k < c; ++k) sum[std::size_t(k)] += q[std::size_t(k)], sq[std::size_t(k)] += q[std::size_t(k)] * q[std::size_t(k)];
    }
    const double var = 0.25 * 0.75 / (c * alpha + 1);
    for (int k = 0; k < c; ++k) {
      const double mean = sum[std::size_t(k)] / draws;
      EXPECT_NEAR(mean, 0.25, 0.01) << "alpha " << alpha;
      EXPECT_NEAR(sq[std::size_t(k)] / draws - mean * mean, var, 0.1 * var) << "alpha " << alpha;
    }
  }
  Rng rng(1);  // tiny alpha: no underflow to all zeros
  const auto q = dirichlet_sample(rng, 1e-4, 10);
  EXPECT_NEAR(std::accumulate(q.begin(), q.end(), 0.0), 1.0, 1e-12);
}

TEST(LabelPartition, SamplerServesTheOwnedSetEveryEpochInNewOrders) {
  const Labels labels = random_labels(400, kC, 2);
  const auto owners = partition_owners(classes(2), labels, kC, 4, 5);
  const Ids mine = samples_of(owners, 1);
  ShardSampler s(400, 4, 1, 10, 5, true, Partition::Classes, mine);
  EXPECT_EQ(s.partition(), Partition::Classes);
  Ids e0(s.shard().begin(), s.shard().end());
  s.reset(1);
  Ids e1(s.shard().begin(), s.shard().end());
  EXPECT_NE(e0, e1);
  std::sort(e0.begin(), e0.end());
  std::sort(e1.begin(), e1.end());
  EXPECT_EQ(e0, mine);
  EXPECT_EQ(e1, mine);
  // The owned set must be S ascending ids; reshuffle owns none.
  EXPECT_THROW(ShardSampler(400, 4, 1, 10, 5, true, Partition::Classes), InputError);
  EXPECT_THROW(ShardSampler(400, 4, 1, 10, 5, true, Partition::Dirichlet, Ids(mine.begin() + 1, mine.end())), InputError);
  EXPECT_THROW(ShardSampler(400, 4, 1, 10, 5, true, Partition::Reshuffle, mine), InputError);
}

TEST(LabelPartition, BadSpecsAndLabelsAreInputErrors) {
  const Labels labels = random_labels(100, kC, 1);
  EXPECT_THROW(partition_owners(classes(0), labels, kC, 2, 1), InputError);
  EXPECT_THROW(partition_owners(classes(11), labels, kC, 2, 1), InputError);
  EXPECT_THROW(partition_owners(dirichlet(0), labels, kC, 2, 1), InputError);
  EXPECT_THROW(partition_owners(dirichlet(-1), labels, kC, 2, 1), InputError);
  EXPECT_THROW(partition_owners(classes(2), labels, 5, 2, 1), InputError);  // label 9 >= 5 classes
  try {
    check_partition_spec(classes(11), kC);
    ADD_FAILURE() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("'data.classes_per_worker' must be in [1, 10]"), std::string::npos) << e.what();
  }
}

DataSource source(const std::string& text, nlohmann::json& holder, std::shared_ptr<nlohmann::json> record = nullptr) {
  holder = nlohmann::json::parse(text);
  JsonReader r = record ? JsonReader(holder, "data", record) : JsonReader(holder, "data");
  return DataSource(r);
}

std::string error_of(const std::string& text) {
  nlohmann::json j;
  try {
    source(text, j).info();
  } catch (const InputError& e) {
    return e.what();
  }
  return "no error";
}

TEST(LabelPartition, ConfigKeysBelongToTheirPartition) {
  nlohmann::json j;
  auto record = std::make_shared<nlohmann::json>(nlohmann::json::object());
  const DataSource c = source(R"({"name": "synthetic", "partition": "classes"})", j, record);
  EXPECT_EQ(c.partition(), Partition::Classes);
  EXPECT_EQ(c.partition_spec().classes_per_worker, 2);
  // The effective config records the k used (the default here).
  EXPECT_NE(record->dump().find(R"("classes_per_worker":2)"), std::string::npos) << record->dump();
  EXPECT_EQ(record->dump().find("dirichlet_alpha"), std::string::npos) << record->dump();
  const DataSource d = source(R"({"name": "synthetic", "partition": "dirichlet", "dirichlet_alpha": 0.1})", j);
  EXPECT_EQ(d.partition_spec().dirichlet_alpha, 0.1);

  EXPECT_NE(error_of(R"({"name": "synthetic", "partition": "fixed", "classes_per_worker": 3})")
                .find("'data.classes_per_worker' applies only to data.partition \"classes\""),
            std::string::npos);
  EXPECT_NE(error_of(R"({"name": "synthetic", "classes_per_worker": 3})").find("not \"reshuffle\""), std::string::npos);
  EXPECT_NE(error_of(R"({"name": "synthetic", "partition": "classes", "dirichlet_alpha": 1})")
                .find("'data.dirichlet_alpha' applies only"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"name": "synthetic", "classes": 5, "partition": "classes", "classes_per_worker": 6})")
                .find("'data.classes_per_worker' must be in [1, 5]"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"name": "synthetic", "partition": "classes", "classes_per_worker": 0})")
                .find("'data.classes_per_worker' must be in [1, "),
            std::string::npos);
  EXPECT_NE(error_of(R"({"name": "synthetic", "partition": "dirichlet", "dirichlet_alpha": 0})")
                .find("'data.dirichlet_alpha' must be > 0"),
            std::string::npos);
  EXPECT_EQ(error_of(R"({"name": "synthetic", "classes": 5, "partition": "classes", "classes_per_worker": 5})"),
            "no error");
}

}  // namespace
}  // namespace gg
