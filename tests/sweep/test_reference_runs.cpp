// Algorithms against reference computations, in process (ranks as threads):
//   allreduce on p workers with batch b equals one process on the concatenated global batch p*b;
//   one-step-stale allreduce likewise (one process applying each gradient one step late), and it applies
//   the previous step's mean gradient;
//   the synchronous parameter server equals allreduce (same workers, same data), dedicated or colocated;
//   the asynchronous parameter server applies every push exactly once;
//   post-local SGD is synchronous SGD until the learning rate first decays, then local SGD.
#include <gtest/gtest.h>

#include <cmath>

#include "algorithms/ps.hpp"
#include "tests/sweep/sweep_run.hpp"

namespace gg::sweep {
namespace {

using nlohmann::json;

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  double d = 0;
  for (std::size_t i = 0; i < a.size(); ++i) d = std::max(d, std::abs(double(a[i]) - double(b[i])));
  return d;
}

TEST(ReferenceRuns, AllreduceEqualsOneProcessOnTheGlobalBatch) {
  for (const char* timing : {"sync", "async"})  // async: one process applying each gradient one step late
    for (int p : {2, 3, 4, 5, 8}) {
      const int b = 3;
      const json block{{"name", "allreduce"}, {"timing", timing}};
      const auto many = run_algorithm({.block = block, .p = p, .batch = b});
      // SyntheticSource: worker w's k-th draw is ids (k*p + w)*b .. +b-1, so the p draws of step k
      // together are exactly one process's k-th draw with batch p*b.
      const auto one = run_algorithm({.block = block, .p = 1, .batch = p * b});
      for (int r = 0; r < p; ++r) {
        for (std::size_t t = 0; t < one[0].x.size(); ++t)
          EXPECT_LE(max_abs_diff(many[std::size_t(r)].x[t], one[0].x[t]), 2e-6)
              << timing << ", p " << p << " rank " << r << " after step " << t;
        EXPECT_LE(max_abs_diff(many[std::size_t(r)].x_final, one[0].x_final), 2e-6)
            << timing << ", p " << p << " rank " << r << " after finish()";
      }
    }
}

// One-step-stale allreduce applies nothing at step 0, at step t >= 1 the mean over the workers of the raw
// gradients they computed at step t-1 (as recorded by the run itself), and the last step's in finish():
// x_{t+1} = step(x_t, mean_w g_w(t-1)).
TEST(ReferenceRuns, StaleAllreduceAppliesThePreviousStepsMeanGradient) {
  const int p = 4;
  const RunSpec rs{.block = {{"name", "allreduce"}, {"timing", "async"}}, .p = p, .steps = 6};
  const auto logs = run_algorithm(rs);
  auto model = tiny_model(rs.batch);
  const std::size_t n = model->num_params();
  Sgd ref(rs.sgd, model->ranges(), n);
  std::vector<float> x = logs[0].x[0], mean(n);
  for (std::size_t t = 0; t <= std::size_t(rs.steps); ++t) {  // t = steps: finish()
    if (t > 0) {
      std::fill(mean.begin(), mean.end(), 0.0f);
      for (const RankLog& l : logs)
        for (std::size_t i = 0; i < n; ++i) mean[i] += l.g[t - 1][i];
      for (float& m : mean) m /= float(p);
      ref.step(x, mean, rs.lr);
    }
    const std::vector<float>& got = t < std::size_t(rs.steps) ? logs[0].x[t + 1] : logs[0].x_final;
    EXPECT_LE(max_abs_diff(x, got), 2e-6) << "after step " << t;
  }
  EXPECT_EQ(logs[0].x[1], logs[0].x[0]) << "step 0 has nothing to apply";
}

TEST(ReferenceRuns, SyncParameterServerEqualsAllreduce) {
  for (int workers : {1, 2, 3, 4, 7}) {
    for (int servers : {0, 1, 2}) {  // 0: colocated, every worker serves a shard
      const auto ps = run_algorithm(
          {.block = {{"name", "ps"}, {"servers", servers}, {"mode", "sync"}}, .p = workers + servers});
      const auto ar = run_algorithm({.block = {{"name", "allreduce"}}, .p = workers});
      for (int w = 0; w < workers; ++w)
        for (std::size_t t = 0; t < ar[0].x.size(); ++t)
          EXPECT_LE(max_abs_diff(ps[std::size_t(w)].x[t], ar[std::size_t(w)].x[t]), 2e-6)
              << workers << " workers, " << servers << " servers: worker " << w << " after step " << t;
    }
  }
}

TEST(ReferenceRuns, AsyncParameterServerAppliesEveryPushOnce) {
  for (int staleness : {0, 1, 3}) {
    const int workers = 5, servers = 2, steps = 9;
    std::vector<std::vector<std::int64_t>> applied{std::size_t(servers)};
    RunSpec rs{.block = {{"name", "ps"}, {"servers", servers}, {"mode", "async"}, {"staleness", staleness}},
               .p = workers + servers,
               .steps = steps};
    rs.inspect = [&](Algorithm& a) {
      auto& server = dynamic_cast<ParameterServer&>(a);
      if (server.server_index() >= 0) applied[std::size_t(server.server_index())] = server.applied_pushes();
    };
    run_algorithm(rs);
    for (int s = 0; s < servers; ++s) {
      ASSERT_EQ(applied[std::size_t(s)].size(), std::size_t(workers)) << "server " << s;
      for (int w = 0; w < workers; ++w)
        EXPECT_EQ(applied[std::size_t(s)][std::size_t(w)], steps)
            << "server " << s << " applied worker " << w << "'s pushes a wrong number of times (staleness "
            << staleness << ")";
    }
  }
}

TEST(ReferenceRuns, PostLocalSgdSwitchesToLocalStepsAtTheFirstDecay) {
  const int p = 4, steps = 7;
  const std::vector<double> lr = {0.02, 0.05, 0.05, 0.01, 0.01, 0.01, 0.01};  // warm-up, then a decay at step 3
  const auto post = run_algorithm({.block = {{"name", "local_sgd"}, {"period", 2}, {"post_local", true}},
                                   .p = p, .steps = steps, .lr_by_step = lr});
  const auto ar = run_algorithm({.block = {{"name", "allreduce"}}, .p = p, .steps = steps, .lr_by_step = lr});
  for (std::size_t t = 0; t <= 3; ++t)  // snapshots 0..3: the start and steps 0-2 are synchronous SGD
    for (int r = 0; r < p; ++r)
      EXPECT_LE(max_abs_diff(post[std::size_t(r)].x[t], ar[std::size_t(r)].x[t]), 2e-6) << "rank " << r << " t " << t;
  // step 3 is local (replicas part), step 4 ends a period of 2 local steps (exact average), step 5 local
  EXPECT_GT(max_abs_diff(post[0].x[4], post[1].x[4]), 1e-6) << "replicas should differ after a local step";
  for (int r = 1; r < p; ++r) {
    EXPECT_LE(max_abs_diff(post[std::size_t(r)].x[5], post[0].x[5]), 1e-6) << "rank " << r << ": no average";
    EXPECT_GT(max_abs_diff(post[std::size_t(r)].x[6], post[0].x[6]), 1e-6) << "rank " << r;
  }
}

}  // namespace
}  // namespace gg::sweep
