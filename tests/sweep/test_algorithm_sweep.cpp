// Every registered algorithm x every combination of its options' sweep values x p in {1..8, 12, 16}
// (where its spec accepts that p), ranks as threads, trained through the trainer's step protocol
// with lr > 0, momentum > 0 and (unless the algorithm promises identical replicas) different starting
// parameters and momenta on every worker. Each case checks what every algorithm must do and what its
// spec's Guarantees promise (algorithms/spec.hpp):
//   all:    finite parameters; no allocation on the per-step path after warm-up (the run's first
//           half); every sampled batch trained exactly once over the run (with or without the
//           shuffle's lookahead); bytes moved whenever there is anyone to talk to
//   identical_replicas: all workers bitwise equal after every step and after finish()
//   mass Exact / HalfStale / Stale: the sums over workers of parameters and momentum follow one SGD step
//           on the summed gradient (its half-stale average; the previous step's) at every step, and
//           finish() leaves them alone (Stale: applies the pending step)
//   mixes_parameters: consensus distance shrinks while training
//   exact_mean_after_steps: with lr = 0, every worker holds the global mean after that many steps and
//           the two steps after them
// New algorithms are picked up from the registry automatically.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "algorithms/registry.hpp"
#include "core/cuda/gpu_context.hpp"
#include "core/cuda/runtime.hpp"
#include "core/util/error.hpp"
#include "tests/sweep/alloc_count.hpp"
#include "tests/sweep/sweep_run.hpp"

namespace gg::sweep {
namespace {

using nlohmann::json;

struct Case {
  json block;
  int p;
  Guarantees promises;
  std::string label;
};

std::vector<Case> sweep_cases(bool mixing_only, const std::vector<int>& ps = {1, 2, 3, 4, 5, 6, 7, 8, 12, 16}) {
  std::vector<Case> out;
  for (const AlgorithmSpec& spec : algorithm_specs())
    for (const json& block : sweep_variants(spec))
      for (int p : ps) {
        Guarantees g;
        try {
          const AlgorithmOptions opt = algorithm_options(spec, block);
          rank_layout(spec, opt, p, "algorithm");
          if (spec.guarantees) g = spec.guarantees(opt, p);
        } catch (const InputError&) {
          continue;  // these options cannot run on p ranks (the spec says so)
        }
        if (mixing_only && g.exact_mean_after_steps == 0) continue;
        std::string label;
        for (const auto& [k, v] : block.items()) label += (label.empty() ? "" : "_") + (k == "name" ? "" : k + "_") +
                                                        (v.is_string() ? v.get<std::string>() : v.dump());
        label = std::regex_replace(label + "_p" + std::to_string(p), std::regex("[^A-Za-z0-9_]"), "");
        out.push_back({block, p, g, label});
      }
  return out;
}

std::string case_name(const ::testing::TestParamInfo<Case>& info) { return info.param.label; }

void PrintTo(const Case& c, std::ostream* os) { *os << c.block.dump() << " on " << c.p << " ranks"; }

// Sums over workers at snapshot t of a per-worker array (x, v or g).
std::vector<float> sum_over(const std::vector<const RankLog*>& w, std::vector<std::vector<float>> RankLog::*field,
                            std::size_t t) {
  std::vector<double> s((w[0]->*field)[t].size(), 0.0);
  for (const RankLog* l : w)
    for (std::size_t i = 0; i < s.size(); ++i) s[i] += (l->*field)[t][i];
  return {s.begin(), s.end()};
}

double max_abs_diff(std::span<const float> a, std::span<const float> b) {
  double d = 0;
  for (std::size_t i = 0; i < a.size(); ++i) d = std::max(d, std::abs(double(a[i]) - double(b[i])));
  return d;
}

double max_abs(std::span<const float> a) {
  double m = 0;
  for (float x : a) m = std::max(m, double(std::abs(x)));
  return m;
}

std::vector<float> sum_of(const std::vector<const RankLog*>& w, std::vector<float> RankLog::*field) {
  std::vector<double> s((w[0]->*field).size(), 0.0);
  for (const RankLog* l : w)
    for (std::size_t i = 0; i < s.size(); ++i) s[i] += (l->*field)[i];
  return {s.begin(), s.end()};
}

// The sums follow one SGD step on the summed gradient of the law (Exact: G_t; HalfStale: (G_t + G_{t-1})/2;
// Stale: G_{t-1}, no step at t = 0) after every step, and finish() leaves them as they are, except that
// Stale applies its pending G_{T-1} there.
void expect_mass_law(const RunSpec& rs, const std::vector<const RankLog*>& w, Guarantees::Mass mass) {
  auto model = tiny_model(rs.batch);
  Sgd ref(rs.sgd, model->ranges(), model->num_params());
  // (X, V) advanced by one step on G (none: left alone), against the sums (X1, V1) it should give.
  const auto expect = [&](std::vector<float> X, std::span<const float> V, const std::vector<float>* G,
                          const std::vector<float>& X1, const std::vector<float>& V1, const std::string& when) {
    std::copy(V.begin(), V.end(), ref.momentum().begin());
    if (G) ref.step(X, *G, rs.lr);
    const double tol = 2e-5 * double(w.size()) * (1.0 + max_abs(X1) + max_abs(V1));
    EXPECT_LE(max_abs_diff(X, X1), tol) << "sum of parameters " << when;
    EXPECT_LE(max_abs_diff(ref.momentum(), V1), tol) << "sum of momentum " << when;
  };
  const std::size_t T = w[0]->g.size();
  for (std::size_t t = 0; t < T; ++t) {
    std::vector<float> G = sum_over(w, &RankLog::g, t);
    const bool step = mass != Guarantees::Mass::Stale || t > 0;
    if (mass == Guarantees::Mass::Stale && t > 0) G = sum_over(w, &RankLog::g, t - 1);
    if (mass == Guarantees::Mass::HalfStale && t > 0) {
      const std::vector<float> prev = sum_over(w, &RankLog::g, t - 1);
      for (std::size_t i = 0; i < G.size(); ++i) G[i] = 0.5f * (G[i] + prev[i]);
    }
    expect(sum_over(w, &RankLog::x, t), sum_over(w, &RankLog::v, t), step ? &G : nullptr,
           sum_over(w, &RankLog::x, t + 1), sum_over(w, &RankLog::v, t + 1), "after step " + std::to_string(t));
    if (::testing::Test::HasFailure()) return;
  }
  const std::vector<float> last = T > 0 ? sum_over(w, &RankLog::g, T - 1) : std::vector<float>{};
  const bool pending = mass == Guarantees::Mass::Stale && T > 0;
  expect(sum_over(w, &RankLog::x, T), sum_over(w, &RankLog::v, T), pending ? &last : nullptr,
         sum_of(w, &RankLog::x_final), sum_of(w, &RankLog::v_final), "after finish()");
}

void check_guarantees(const Case& c, const std::vector<std::shared_ptr<GpuContext>>& gpus = {}) {
  const Guarantees& g = c.promises;
  // 10 steps: the allocation window (the second half, last step excluded) then holds a periodic
  // algorithm's second global average (periods in the sweep are at most 4), so the transport's
  // first-use set-up of each collective counts as warm-up, as MPI's lazy initialisation does.
  RunSpec rs{.block = c.block, .p = c.p, .steps = 10, .perturb = !g.identical_replicas, .gpus = gpus};
  const std::vector<RankLog> logs = run_algorithm(rs);
  const std::vector<const RankLog*> w = workers_of(logs);
  ASSERT_FALSE(w.empty());
  std::vector<std::int64_t> sampled, trained;
  for (std::size_t k = 0; k < w.size(); ++k) {
    const RankLog& l = *w[k];
    for (float x : l.x.back()) ASSERT_TRUE(std::isfinite(x)) << "worker " << k;
    // GpuSweep only: GG_GPU_SWEEP_ALLOCATIONS=report prints the per-step allocations instead of failing on
    // them (a fallback for a GPU node, which cannot rebuild the pack, if a library allocates per call in a
    // way the exclusion of tests/sweep/alloc_count.hpp does not catch); every other invariant still counts.
    const char* alloc_mode = std::getenv("GG_GPU_SWEEP_ALLOCATIONS");
    const bool report_only = !gpus.empty() && alloc_mode && std::string(alloc_mode) == "report";
    for (std::size_t t = l.allocations.size() / 2; t + 1 < l.allocations.size(); ++t) {
      if (report_only) {
        if (l.allocations[t] != 0)
          std::printf("[ REPORT   ] worker %zu allocated %ld times during step %zu\n", k, l.allocations[t], t);
      } else {
        EXPECT_EQ(l.allocations[t], 0) << "worker " << k << " allocated during step " << t;
      }
    }
    if (c.p > 1) {
      EXPECT_GT(l.bytes_sent, 0u) << "worker " << k << " sent nothing: was anything measured?";
    }
    sampled.insert(sampled.end(), l.sampled.begin(), l.sampled.end());
    trained.insert(trained.end(), l.trained_ids.begin(), l.trained_ids.end());
  }
  std::sort(sampled.begin(), sampled.end());
  std::sort(trained.begin(), trained.end());
  EXPECT_EQ(sampled, trained) << "the batches trained are not exactly the batches sampled";
  EXPECT_EQ(trained.size(), w.size() * std::size_t(rs.steps * rs.batch));
  if (g.identical_replicas) {
    for (std::size_t k = 1; k < w.size(); ++k)
      for (std::size_t t = 0; t < w[k]->x.size(); ++t)
        ASSERT_EQ(w[k]->x[t], w[0]->x[t]) << "worker " << k << " differs from worker 0 after step " << t;
    for (std::size_t k = 1; k < w.size(); ++k)
      ASSERT_EQ(w[k]->x_final, w[0]->x_final) << "worker " << k << " differs from worker 0 after finish()";
  }
  if (g.mass != Guarantees::Mass::None) expect_mass_law(rs, w, g.mass);
  if (g.mixes_parameters && w.size() > 1) {
    EXPECT_LT(consensus(w, w[0]->x.size() - 1), 0.5 * consensus(w, 0)) << "replicas did not contract";
  }
}

class Sweep : public ::testing::TestWithParam<Case> {};

TEST_P(Sweep, KeepsItsGuarantees) { check_guarantees(GetParam()); }

INSTANTIATE_TEST_SUITE_P(Registry, Sweep, ::testing::ValuesIn(sweep_cases(false)), case_name);

// The same promises with every rank's model host-staged on one GPU (ranks share it, each with its own
// context and streams): forward, loss and backward run there and each gradient bucket reaches the
// algorithm through the asynchronous copy of core/model/model.hpp. Run by scripts/gpu_check.sh.
constexpr int kGpuRanks = 4;

class GpuSweep : public ::testing::TestWithParam<Case> {
 protected:
  // One context per rank for the whole suite (creating cuDNN and cuBLAS handles costs far more than a run).
  // cuDNN's and cuBLAS's own allocations (they import this binary's operator new) are not the engine's:
  // the per-step zero-allocation check leaves them out (tests/sweep/alloc_count.hpp).
  static void SetUpTestSuite() {
    if (cuda::device_count() == 0) return;
    exclude_gpu_library_allocations(true);
    for (int r = 0; r < kGpuRanks; ++r) gpus().push_back(make_gpu_context({}));
  }
  static void TearDownTestSuite() {
    gpus().clear();
    exclude_gpu_library_allocations(false);
  }
  static std::vector<std::shared_ptr<GpuContext>>& gpus() {
    static std::vector<std::shared_ptr<GpuContext>> contexts;
    return contexts;
  }
};

TEST_P(GpuSweep, KeepsItsGuarantees) {
  if (cuda::device_count() == 0) GTEST_SKIP() << "no GPU: " << cuda::unavailable();
  // A GPU is visible: without every rank's context the case would silently run on the CPU.
  ASSERT_EQ(gpus().size(), std::size_t(kGpuRanks)) << "GPU contexts were not created in SetUpTestSuite";
  check_guarantees(GetParam(), gpus());
}

INSTANTIATE_TEST_SUITE_P(Registry, GpuSweep, ::testing::ValuesIn(sweep_cases(false, {2, 3, kGpuRanks})), case_name);

// The GPU-library exclusion of the allocation count, checked without a GPU on libstdc++ (a library this
// binary calls that allocates through its operator new): excluded allocations are counted apart, and
// the test's own allocations still count.
TEST(AllocCount, ExcludesOnlyTheNamedLibrariesAllocations) {
  static const char* const kStdlib[] = {"libstdc++", nullptr};
  static const char buf[8192] = {};
  std::ostringstream os;
  exclude_library_allocations(kStdlib);
  const long own0 = thread_allocations(), apart0 = gpu_library_allocations();
  os.write(buf, sizeof buf);                       // ostream::write and stringbuf's growth live in libstdc++.so
  auto* p = new std::vector<int>(100);             // this binary's code
  const long own1 = thread_allocations(), apart1 = gpu_library_allocations();
  exclude_library_allocations(nullptr);
  delete p;
  EXPECT_GE(apart1 - apart0, 1) << "the allocation inside libstdc++ was not counted apart";
  EXPECT_GE(own1 - own0, 1) << "this binary's own allocations must still count";
  const long own2 = thread_allocations();
  std::ostringstream again;
  again.write(buf, sizeof buf);
  EXPECT_GE(thread_allocations() - own2, 1) << "with the exclusion off every allocation counts";
}

class SweepMixing : public ::testing::TestWithParam<Case> {};

TEST_P(SweepMixing, ReachesTheGlobalMeanAfterOneCycle) {
  const Case& c = GetParam();
  // ... and stays there: two more steps (communication still in flight must not move it away again)
  const int reached = c.promises.exact_mean_after_steps;
  RunSpec rs{.block = c.block, .p = c.p, .steps = reached + 2, .lr = 0.0, .perturb = true};
  const std::vector<RankLog> logs = run_algorithm(rs);
  const std::vector<const RankLog*> w = workers_of(logs);
  std::vector<float> mean = sum_over(w, &RankLog::x, 0);
  for (float& m : mean) m /= float(w.size());
  for (std::size_t k = 0; k < w.size(); ++k)
    for (std::size_t t = std::size_t(reached); t < w[k]->x.size(); ++t)
      EXPECT_LE(max_abs_diff(w[k]->x[t], mean), 1e-5 * (1.0 + max_abs(mean))) << "worker " << k << " after step " << t;
}

INSTANTIATE_TEST_SUITE_P(Registry, SweepMixing, ::testing::ValuesIn(sweep_cases(true)), case_name);

}  // namespace
}  // namespace gg::sweep
