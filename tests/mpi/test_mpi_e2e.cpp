// End to end under mpiexec, for EVERY registered algorithm (algorithm_specs(): an algorithm added to the
// registry is included here without a change): its defaults and every option combination its spec lists
// for the sweep (sweep_variants) that accept this number of ranks each train the tiny model of test_util.hpp for kSteps
// steps through StepRunner on real MPI, and then
//   - every rank returns from training (or serving) and from finish(): all ranks report in, and every
//     training rank ran all kSteps steps;
//   - every training rank's replica has a lower loss on a held-out synthetic set than the common
//     starting point had (by at least kMinDrop: the task is learnable, so training that does not move
//     the model, or moves it the wrong way, fails);
//   - for p > 1 every training rank sent bytes (StepStats::bytes_sent summed over the steps), and every
//     step's stats are finite and consistent (0 <= wait_s, comm_s >= 0).
// An algorithm none of whose variants accepts p is reported (and must be rare: it fails if more than
// one registered algorithm cannot run at all at this p). Run at p = 3, 4, 6 (tests/mpi/CMakeLists.txt).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include "core/layers/softmax_xent.hpp"
#include "core/util/error.hpp"
#include "tests/mpi/test_util.hpp"

namespace gg {
namespace {

using nlohmann::json;

constexpr int kSteps = 30;
constexpr int kBatch = 8;                     // per worker and step
constexpr int kEval = 64;                     // held-out samples
constexpr std::int64_t kEvalFirstId = 1'000'000'000;  // far from every training id
constexpr double kMinDrop = 0.3;  // nats: every variant drops 0.6-1.0 from ~1.49 in 30 steps
const SgdOptions kMomentum{.momentum = 0.9, .weight_decay = 5e-4, .nesterov = false};

// Mean cross-entropy of the model's current parameters on the held-out set.
double eval_loss(Model& model) {
  Batch b;
  test::fill_synthetic(b, kEvalFirstId, kEval);
  const Tensor& logits = model.forward(b.x, {Phase::Eval, 1});
  return softmax_xent(logits, b.labels, nullptr);
}

std::string label(const json& block) {
  std::string s;
  for (const auto& [k, v] : block.items()) s += (s.empty() ? "" : " ") + k + "=" + (v.is_string() ? v.get<std::string>() : v.dump());
  return s;
}

// What one rank reports after one run.
struct RankReport {
  double finished = 0, trains = 0, steps = 0, bytes = 0, loss0 = 0, loss1 = 0, bad_stats = 0;
};

// Trains `block` on every rank of comm; returns every rank's report (rank-major) on every rank.
std::vector<RankReport> run_variant(const json& block) {
  test::Rig rig(kEval, kMomentum);
  RankReport me;
  me.loss0 = eval_loss(*rig.model);
  auto algo = rig.make(block);
  me.trains = algo->trains() ? 1 : 0;
  if (algo->trains()) {
    StepRunner runner(*algo, *rig.model, *rig.sgd, 3);
    test::SyntheticBatches data(std::int64_t(algo->worker_index()) * kBatch, kBatch,
                                std::int64_t(algo->num_workers()) * kBatch);
    for (int t = 0; t < kSteps; ++t) {
      const float loss = runner.run(t, kSteps, 0.1, data.next());
      const StepStats& s = algo->stats();
      if (!std::isfinite(loss) || !(s.comm_s >= 0) || !(s.wait_s >= 0) || !std::isfinite(s.comm_s)) me.bad_stats += 1;
      me.bytes += double(s.bytes_sent);
      me.steps += 1;
    }
  } else {
    algo->serve();
  }
  algo->finish();
  me.loss1 = eval_loss(*rig.model);
  me.finished = 1;
  const std::vector<double> mine{me.finished, me.trains, me.steps, me.bytes, me.loss0, me.loss1, me.bad_stats};
  const std::vector<double> all = test::allgather(rig.comm, mine);
  std::vector<RankReport> out;
  for (std::size_t r = 0; r < all.size() / mine.size(); ++r) {
    const double* v = all.data() + r * mine.size();
    out.push_back({v[0], v[1], v[2], v[3], v[4], v[5], v[6]});
  }
  return out;
}

TEST(EndToEnd, EveryRegisteredAlgorithmTrainsOnEveryRank) {
  MpiCommunicator world;
  const int p = world.size();
  ASSERT_GT(p, 1) << "run under mpiexec with several ranks";
  int unrunnable = 0, runs = 0;
  for (const AlgorithmSpec& spec : algorithm_specs()) {
    int accepted = 0;
    // The sweep's variants, plus the defaults where no variant is them (the sweep need not list them).
    std::vector<json> blocks = sweep_variants(spec);
    const json defaults = algorithm_options(spec, json{{"name", spec.name}}).json();
    if (std::none_of(blocks.begin(), blocks.end(),
                     [&](const json& b) { return algorithm_options(spec, b).json() == defaults; }))
      blocks.insert(blocks.begin(), json{{"name", spec.name}});
    for (const json& block : blocks) {
      try {
        rank_layout(spec, algorithm_options(spec, block), p, "algorithm");
      } catch (const InputError&) {
        continue;  // the spec says these options cannot run on p ranks (tests/mpi/test_mpi_bad_input.cpp)
      }
      ++accepted;
      ++runs;
      SCOPED_TRACE(label(block) + " on " + std::to_string(p) + " ranks");
      const std::vector<RankReport> reports = run_variant(block);
      ASSERT_EQ(int(reports.size()), p);
      int trainers = 0;
      double worst_drop = 1e9;
      for (int r = 0; r < p; ++r) {
        const RankReport& rr = reports[std::size_t(r)];
        EXPECT_EQ(rr.finished, 1) << "rank " << r;
        EXPECT_EQ(rr.bad_stats, 0) << "rank " << r << ": non-finite loss or negative / non-finite stats";
        if (rr.trains == 0) continue;
        ++trainers;
        EXPECT_EQ(rr.steps, kSteps) << "rank " << r;
        EXPECT_GT(rr.bytes, 0) << "rank " << r << " sent nothing in " << kSteps << " steps";
        EXPECT_LT(rr.loss1, rr.loss0 - kMinDrop) << "rank " << r << ": held-out loss " << rr.loss0 << " -> " << rr.loss1;
        worst_drop = std::min(worst_drop, rr.loss0 - rr.loss1);
      }
      EXPECT_GT(trainers, 0);
      if (world.rank() == 0)
        std::printf("  %-60s p=%d  trainers %d  held-out loss %.3f -> worst worker drop %.3f\n",
                    label(block).c_str(), p, trainers, reports[0].loss0, worst_drop);
    }
    if (accepted == 0) {
      ++unrunnable;
      if (world.rank() == 0) std::printf("  %s: no sweep variant accepts p = %d\n", spec.name.c_str(), p);
    }
  }
  EXPECT_LE(unrunnable, 1);
  EXPECT_GT(runs, 0);
  if (world.rank() == 0) std::printf("%d runs at p = %d\n", runs, p);
}

}  // namespace
}  // namespace gg
