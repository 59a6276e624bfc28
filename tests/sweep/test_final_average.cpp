// train.final_average (core/train/final_average.hpp), in process: algorithms whose replicas differ at
// the end (gossipgrad, dpsgd, sgp with and without overlap, local_sgd, gossip) trained with lr, momentum
// and weight decay from different starts at several p, then finish() and the final average as the trainer
// runs it (over the workers only). After it every worker's parameters are BITWISE equal, and equal to the
// mean of the replicas after finish() (to rounding). allreduce SGD's replicas are identical already: the
// average leaves them as they were to rounding (exactly with hypercube). The parameter server
// averages its workers only. SGP's numerators follow the averaged model (Algorithm::model_replaced).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "core/train/final_average.hpp"
#include "core/util/error.hpp"
#include "tests/sweep/sweep_run.hpp"

namespace gg {
// algorithms/sgp.cpp (for tests): an sgp worker's numerators and weight, and what is in flight.
bool sgp_push_sum_state(const Algorithm& a, std::span<const float>& own, std::span<const float>& in_flight);
}  // namespace gg

namespace gg::sweep {
namespace {

using nlohmann::json;

struct AvgCase {
  json block;
  int p;
  FinalAverage how;
};

std::vector<AvgCase> avg_cases() {
  const json differing[] = {
      {{"name", "gossipgrad"}, {"topology", "dissemination"}},
      {{"name", "gossipgrad"}, {"topology", "dissemination"}, {"shuffle", "ring"}, {"exchange", "gradients"}},
      {{"name", "dpsgd"}},
      {{"name", "sgp"}, {"overlap", false}},
      {{"name", "sgp"}, {"overlap", true}},
      {{"name", "local_sgd"}},
      {{"name", "gossip"}, {"topology", "dissemination"}},
  };
  std::vector<AvgCase> out;
  for (const json& b : differing)
    for (int p : {2, 3, 4, 5, 6, 8}) {
      out.push_back({b, p, FinalAverage::Allreduce});
      if ((p & (p - 1)) == 0) out.push_back({b, p, FinalAverage::Hypercube});
    }
  for (int p : {2, 4}) {  // gossipgrad's own default (hypercube topology, partner shuffle)
    out.push_back({{{"name", "gossipgrad"}}, p, FinalAverage::Allreduce});
    out.push_back({{{"name", "gossipgrad"}}, p, FinalAverage::Hypercube});
  }
  return out;
}

std::string case_name(const ::testing::TestParamInfo<AvgCase>& info) {
  std::string label;
  for (const auto& [k, v] : info.param.block.items())
    label += (label.empty() ? "" : "_") + (v.is_string() ? v.get<std::string>() : k + "_" + v.dump());
  return label + "_" + final_average_name(info.param.how) + "_p" + std::to_string(info.param.p);
}

double max_abs(std::span<const float> a) {
  double m = 0;
  for (float x : a) m = std::max(m, double(std::abs(x)));
  return m;
}

class FinalAverageSweep : public ::testing::TestWithParam<AvgCase> {};

TEST_P(FinalAverageSweep, LeavesEveryReplicaBitwiseEqualToTheMean) {
  const AvgCase& c = GetParam();
  const RunSpec rs{.block = c.block, .p = c.p, .steps = 7, .perturb = true, .final_average = c.how};
  const std::vector<RankLog> logs = run_algorithm(rs);
  const std::vector<const RankLog*> w = workers_of(logs);
  ASSERT_EQ(int(w.size()), c.p);
  const std::size_t n = w[0]->x_final.size();
  std::vector<double> mean(n, 0.0);
  for (const RankLog* l : w)
    for (std::size_t i = 0; i < n; ++i) mean[i] += double(l->x_final[i]) / double(c.p);
  bool differed = false;
  for (std::size_t k = 0; k < w.size(); ++k) {
    ASSERT_EQ(w[k]->x_averaged.size(), n);
    EXPECT_EQ(w[k]->x_averaged, w[0]->x_averaged) << "worker " << k << " differs from worker 0 after the average";
    differed = differed || w[k]->x_final != w[0]->x_final;
  }
  // (synchronous SGP on 2 ranks mixes exactly every step: its replicas end identical)
  const bool exact_mixing = c.p == 2 && c.block.at("name") == "sgp" && !c.block.at("overlap").get<bool>();
  if (!exact_mixing) {
    EXPECT_TRUE(differed) << "the replicas were identical before the average: nothing was tested";
  }
  const double tol = 1e-6 * (1.0 + max_abs(w[0]->x_final));
  for (std::size_t i = 0; i < n; ++i)
    ASSERT_NEAR(w[0]->x_averaged[i], mean[i], tol) << "parameter " << i << " is not the mean of the replicas";
}

INSTANTIATE_TEST_SUITE_P(Algorithms, FinalAverageSweep, ::testing::ValuesIn(avg_cases()), case_name);

// SGP keeps its own model (numerators x_i and weight w_i, the params hold z_i = x_i / w_i): after the
// average its numerators follow, so z = x / w is the averaged model again.
TEST(FinalAverageSgp, NumeratorsFollowTheAveragedModel) {
  for (bool overlap : {false, true}) {
    std::vector<std::vector<float>> z(3);
    std::vector<std::vector<float>> xw(3);
    RunSpec rs{.block = {{"name", "sgp"}, {"overlap", overlap}}, .p = 3, .steps = 7, .perturb = true,
               .final_average = FinalAverage::Allreduce};
    rs.inspect = [&](Algorithm& a) {
      std::span<const float> own, in_flight;
      ASSERT_TRUE(sgp_push_sum_state(a, own, in_flight));
      EXPECT_TRUE(in_flight.empty());
      xw[std::size_t(a.worker_index())].assign(own.begin(), own.end());
    };
    const std::vector<RankLog> logs = run_algorithm(rs);
    for (std::size_t r = 0; r < 3; ++r) {
      const std::vector<float>& x = logs[r].x_averaged;
      const float weight = xw[r].back();
      EXPECT_NEAR(weight, 1.0f, 1e-5f) << "overlap " << overlap << ": weight after finish()";
      for (std::size_t i = 0; i < x.size(); ++i)
        ASSERT_NEAR(xw[r][i] / weight, x[i], 1e-6 * (1.0 + std::abs(x[i]))) << "overlap " << overlap << " rank " << r;
    }
  }
}

// allreduce SGD: identical replicas stay as they were, up to rounding (the sum p x, times 1/p); exactly with
// hypercube (0.5 (x + x) = x).
TEST(FinalAverageIdentical, AllreduceReplicasAreUnchangedUpToRounding) {
  for (int p : {2, 3, 4, 5, 8})
    for (FinalAverage how : {FinalAverage::Allreduce, FinalAverage::Hypercube}) {
      if (how == FinalAverage::Hypercube && (p & (p - 1)) != 0) continue;
      const RunSpec rs{.block = {{"name", "allreduce"}}, .p = p, .steps = 5, .final_average = how};
      const std::vector<RankLog> logs = run_algorithm(rs);
      for (const RankLog& l : logs) {
        ASSERT_EQ(l.x_final, logs[0].x_final);
        EXPECT_EQ(l.x_averaged, logs[0].x_averaged) << "p " << p;
        for (std::size_t i = 0; i < l.x_final.size(); ++i)
          ASSERT_NEAR(l.x_averaged[i], l.x_final[i], 2e-7 * (1.0 + std::abs(l.x_final[i]))) << "p " << p;
        if (how == FinalAverage::Hypercube) {  // 0.5 * (x + x) == x
          EXPECT_EQ(l.x_averaged, l.x_final) << " p " << p;
        }
      }
    }
}

// The parameter server: its server ranks train nothing and are not averaged; the workers' replicas are.
TEST(FinalAverageServers, AveragesTheWorkersOnly) {
  for (const char* mode : {"sync", "async"}) {
    const RunSpec rs{.block = {{"name", "ps"}, {"mode", mode}}, .p = 5, .steps = 5, .perturb = true,
                     .final_average = FinalAverage::Hypercube};  // 4 workers + 1 server: hypercube fits
    const std::vector<RankLog> logs = run_algorithm(rs);
    const std::vector<const RankLog*> w = workers_of(logs);
    ASSERT_EQ(w.size(), 4u);
    for (const RankLog* l : w) EXPECT_EQ(l->x_averaged, w[0]->x_averaged) << mode;
  }
}

TEST(FinalAverageCheck, HypercubeRefusesOtherWorkerCounts) {
  for (int p : {1, 2, 4, 8, 64}) EXPECT_NO_THROW(check_final_average(FinalAverage::Hypercube, p));
  for (int p : {3, 5, 6, 12}) {
    try {
      check_final_average(FinalAverage::Hypercube, p);
      ADD_FAILURE() << "hypercube accepted " << p << " workers";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("'train.final_average'"), std::string::npos) << e.what();
    }
    EXPECT_NO_THROW(check_final_average(FinalAverage::Allreduce, p));
  }
}

}  // namespace
}  // namespace gg::sweep
