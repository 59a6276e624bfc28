// The two rules for applying the partner's one-step-stale parameters (pair_exchange.hpp: exchange =
// parameters, timing = async, option async_rule), checked rank by rank and step by step against their
// formulas, from what every rank recorded (ranks as threads, training with lr and momentum, different
// starting points on every rank):
//   y_t = one optimizer step of the rank's own (x_t, v_t) on its raw gradient g_t
//   x'_t = what the partner it receives from at step t-1 sent: its snapshot after step t-1
//   correction (extension):           x_{t+1} = y_t + (x'_t - x_t) / 2
//   average (original code, MaTEx):   x_{t+1} = (y_t + x'_t) / 2
// for t >= 1 (step 0 has nothing pending: x_1 = y_0), the same for the momentum v, and finish() applies
// the exchange of the last step, which under both rules is then (x_T + x'_T) / 2 (no step in between).
// The sweep checks what each rule promises across p (test_algorithm_sweep.cpp); this pins the formulas,
// so that the two cannot be swapped or mixed up without a failure.
#include <gtest/gtest.h>

#include <cmath>

#include "algorithms/schedule.hpp"
#include "tests/sweep/sweep_run.hpp"

namespace gg::sweep {
namespace {

using nlohmann::json;

double max_abs_diff(std::span<const float> a, std::span<const float> b) {
  double d = 0;
  for (std::size_t i = 0; i < a.size(); ++i) d = std::max(d, std::abs(double(a[i]) - double(b[i])));
  return d;
}

struct Rule {
  const char* name;
  // x_{t+1} from y (own step), own x_t (what this rank sent at t-1) and the partner's x'_t
  float (*apply)(float y, float own, float partner);
};

const Rule kCorrection{"correction", [](float y, float own, float partner) { return y + 0.5f * (partner - own); }};
const Rule kAverage{"average", [](float y, float, float partner) { return 0.5f * (y + partner); }};

void expect_rule(const Rule& rule, const char* topology, const char* rotation, int p) {
  SCOPED_TRACE(std::string(rule.name) + ", " + topology + ", rotation " + rotation + ", p " + std::to_string(p));
  const json block{{"name", "gossipgrad"}, {"topology", topology}, {"rotation", rotation}, {"exchange", "parameters"},
                   {"timing", "async"}, {"async_rule", rule.name}, {"shuffle", "none"}};
  const RunSpec rs{.block = block, .p = p, .steps = 7, .perturb = true};
  const std::vector<RankLog> logs = run_algorithm(rs);
  const ScheduleSpec schedule{topology_from(topology), rotation_from(rotation), kRunSeed};
  auto model = tiny_model(rs.batch);
  const std::size_t n = model->num_params(), T = std::size_t(rs.steps);
  Sgd ref(rs.sgd, model->ranges(), n);
  std::vector<float> x(n), v(n);
  double moved = 0;  // how far the partners' values are from one's own: the check means something
  for (int r = 0; r < p; ++r) {
    const RankLog& me = logs[std::size_t(r)];
    for (std::size_t t = 0; t < T; ++t) {
      x = me.x[t];
      std::copy(me.v[t].begin(), me.v[t].end(), ref.momentum().begin());
      ref.step(x, me.g[t], rs.lr);
      std::copy(ref.momentum().begin(), ref.momentum().end(), v.begin());
      if (t > 0) {
        const RankLog& from = logs[std::size_t(partners_at(r, p, std::int64_t(t) - 1, schedule).recv_from)];
        moved = std::max(moved, max_abs_diff(from.x[t], me.x[t]));
        for (std::size_t i = 0; i < n; ++i) {
          x[i] = rule.apply(x[i], me.x[t][i], from.x[t][i]);
          v[i] = rule.apply(v[i], me.v[t][i], from.v[t][i]);
        }
      }
      ASSERT_LE(max_abs_diff(x, me.x[t + 1]), 2e-6) << "parameters of rank " << r << " after step " << t;
      ASSERT_LE(max_abs_diff(v, me.v[t + 1]), 2e-6) << "momentum of rank " << r << " after step " << t;
    }
    const RankLog& last = logs[std::size_t(partners_at(r, p, std::int64_t(T) - 1, schedule).recv_from)];
    for (std::size_t i = 0; i < n; ++i) {
      x[i] = 0.5f * (me.x[T][i] + last.x[T][i]);
      v[i] = 0.5f * (me.v[T][i] + last.v[T][i]);
    }
    EXPECT_LE(max_abs_diff(x, me.x_final), 2e-6) << "parameters of rank " << r << " after finish()";
    EXPECT_LE(max_abs_diff(v, me.v_final), 2e-6) << "momentum of rank " << r << " after finish()";
  }
  EXPECT_GT(moved, 1e-2);
}

TEST(PairExchangeRules, CorrectionAndMatexAverageFollowTheirFormulas) {
  for (const Rule* rule : {&kCorrection, &kAverage})
    for (const char* rotation : {"none", "shift", "permutation"}) {
      expect_rule(*rule, "hypercube", rotation, 4);
      expect_rule(*rule, "dissemination", rotation, 6);
    }
  expect_rule(kAverage, "dissemination", "none", 5);
}

// The sums over ranks under MaTEx's rule: the partner's copy lacks its latest step, so half of every
// step's update is undone (x' from a permutation of the ranks sums to X_t):
//   X_{t+1} = (step(X_t, V_t; G_t) + X_t) / 2,   V_{t+1} = (V_t' + V_t) / 2   (t >= 1)
// Hence no mass law (Guarantees::Mass::None), unlike the correction's Exact one.
TEST(PairExchangeRules, MatexAverageUndoesHalfOfEachUpdateInTheSum) {
  const int p = 8;
  const RunSpec rs{.block = {{"name", "gossipgrad"}, {"async_rule", "average"}}, .p = p, .steps = 6, .perturb = true};
  const std::vector<RankLog> logs = run_algorithm(rs);
  auto model = tiny_model(rs.batch);
  const std::size_t n = model->num_params();
  Sgd ref(rs.sgd, model->ranges(), n);
  const auto sum = [&](std::vector<std::vector<float>> RankLog::*field, std::size_t t) {
    std::vector<float> s(n, 0.0f);
    for (const RankLog& l : logs)
      for (std::size_t i = 0; i < n; ++i) s[i] += (l.*field)[t][i];
    return s;
  };
  double undone = 0;
  for (std::size_t t = 1; t < std::size_t(rs.steps); ++t) {
    const std::vector<float> X = sum(&RankLog::x, t), V = sum(&RankLog::v, t);
    std::vector<float> Y = X;
    std::copy(V.begin(), V.end(), ref.momentum().begin());
    ref.step(Y, sum(&RankLog::g, t), rs.lr);
    const std::vector<float> X1 = sum(&RankLog::x, t + 1), V1 = sum(&RankLog::v, t + 1);
    std::vector<float> half_x(n), half_v(n);
    for (std::size_t i = 0; i < n; ++i) {
      half_x[i] = 0.5f * (Y[i] + X[i]);
      half_v[i] = 0.5f * (ref.momentum()[i] + V[i]);
    }
    EXPECT_LE(max_abs_diff(half_x, X1), 2e-5) << "sum of parameters after step " << t;
    EXPECT_LE(max_abs_diff(half_v, V1), 2e-5) << "sum of momentum after step " << t;
    undone = std::max(undone, max_abs_diff(Y, X1));  // what the Exact law would have predicted
  }
  EXPECT_GT(undone, 1e-3) << "the half-step law must differ from the Exact one for this test to mean anything";
}

}  // namespace
}  // namespace gg::sweep
