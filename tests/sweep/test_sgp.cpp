// SGP's push-sum invariants (algorithms/sgp.cpp), checked at every step on p in-process ranks, with and
// without overlap, from different starting parameters and momenta on every worker:
//   weights:    sum_i w_i + (weight in flight) = p
//   numerators: sum_i x_i + (numerators in flight) follow one optimizer step on the summed gradient, with
//               momentum and weight decay acting on the numerators
//   replica:    the model's params hold z_i = x_i / w_i after every step
//   schedule:   with lr = 0, (x_i, w_i) follow a double-precision push-sum of the 1-peer exponential graph
//               (keep half, push half to i + 2^k; added in the same step, or one step later with overlap)
//   finish():   nothing stays in flight, every w_i = 1, and no mass is lost
// The generic sweep (test_algorithm_sweep.cpp) checks what the spec's Guarantees declare; these are the
// sums it cannot see (x, w and the messages in flight live inside the algorithm).
#include <gtest/gtest.h>

#include <cmath>
#include <span>

#include "algorithms/registry.hpp"
#include "core/comm/inproc_communicator.hpp"
#include "core/train/step.hpp"
#include "core/util/rng.hpp"
#include "tests/sweep/sweep_rig.hpp"

namespace gg {
// Defined in algorithms/sgp.cpp: an sgp worker's (x, w) ([n + 1], weight last) and its push in flight.
bool sgp_push_sum_state(const Algorithm& a, std::span<const float>& own, std::span<const float>& in_flight);
}  // namespace gg

namespace gg::sweep {
namespace {

constexpr int kBatch = 4;

struct SgpRun {
  int p = 4;
  bool overlap = false;
  int steps = 9;
  double lr = 0.05;
  SgdOptions sgd{.momentum = 0.9, .weight_decay = 1e-3, .nesterov = false};
};

// What one rank saw; index t of own/sent/z/v is the state after step t-1 (t = 0: the start).
struct Trace {
  std::vector<std::vector<float>> own, sent;  // [T + 1][n + 1] (x, w) and its push in flight (zeros if none)
  std::vector<std::vector<float>> z, v;       // [T + 1][n] params and momentum
  std::vector<std::vector<float>> g;          // [T][n] raw gradients
  std::vector<int> partner;                   // [T]
  std::vector<std::uint64_t> bytes;           // [T]
  std::vector<float> final_own;               // [n + 1] after finish()
  bool final_in_flight = true;
};

void record(const Algorithm& a, std::span<const float> z, std::span<const float> v, Trace& tr) {
  std::span<const float> own, sent;
  if (!sgp_push_sum_state(a, own, sent)) throw std::logic_error("not an sgp worker");
  tr.own.emplace_back(own.begin(), own.end());
  tr.sent.emplace_back(sent.begin(), sent.end());
  tr.sent.back().resize(own.size(), 0.0f);
  tr.z.emplace_back(z.begin(), z.end());
  tr.v.emplace_back(v.begin(), v.end());
}

std::vector<Trace> run_sgp(const SgpRun& run) {
  std::vector<Trace> traces(std::size_t(run.p));
  run_ranks(run.p, [&](Communicator& comm) {
    Trace& tr = traces[std::size_t(comm.rank())];
    auto model = tiny_model(kBatch);
    Sgd sgd(run.sgd, model->ranges(), model->num_params());
    const AlgorithmSpec spec = find_algorithm("sgp", "algorithm.name");
    auto algo = spec.make(algorithm_options(spec, {{"overlap", run.overlap}}), AlgorithmEnv{comm, *model, sgd, 11});
    Rng rng(seed_of(99, std::uint64_t(comm.rank())));
    for (float& x : model->params()) x += rng.uniform() - 0.5f;
    for (float& v : sgd.momentum()) v = 0.2f * (rng.uniform() - 0.5f);
    tr.own.emplace_back(model->params().begin(), model->params().end());
    tr.own.back().push_back(1.0f);  // x_i = z_i, w_i = 1 at the start: nothing in flight
    tr.sent.emplace_back(tr.own.back().size(), 0.0f);
    tr.z.emplace_back(model->params().begin(), model->params().end());
    tr.v.emplace_back(sgd.momentum().begin(), sgd.momentum().end());
    Recorder rec(*algo, *model);
    StepRunner runner(rec, *model, sgd, 5);
    SyntheticSource source(comm.rank(), comm.size(), kBatch);
    for (int t = 0; t < run.steps; ++t) {
      runner.run(t, run.steps, run.lr, [&](Batch& b) { source.next(b); });
      tr.g.emplace_back(rec.raw_grads().begin(), rec.raw_grads().end());
      tr.partner.push_back(rec.stats().partner);
      tr.bytes.push_back(rec.stats().bytes_sent);
      record(*algo, model->params(), sgd.momentum(), tr);
    }
    algo->finish();
    std::span<const float> own, sent;
    sgp_push_sum_state(*algo, own, sent);
    tr.final_own.assign(own.begin(), own.end());
    tr.final_in_flight = !sent.empty();
  });
  return traces;
}

// Sum over ranks of field[t] (+ the in-flight pushes when with_sent), in double.
std::vector<double> total(const std::vector<Trace>& tr, std::size_t t, bool with_sent) {
  std::vector<double> s(tr[0].own[t].size(), 0.0);
  for (const Trace& r : tr)
    for (std::size_t i = 0; i < s.size(); ++i) s[i] += double(r.own[t][i]) + (with_sent ? double(r.sent[t][i]) : 0.0);
  return s;
}

std::string where(const SgpRun& r) {
  return "p " + std::to_string(r.p) + (r.overlap ? " overlap" : " sync");
}

TEST(Sgp, PushSumSumsFollowOneOptimizerStep) {
  for (bool overlap : {false, true})
    for (int p : {1, 2, 3, 4, 5, 7, 8, 12, 16}) {
      const SgpRun run{.p = p, .overlap = overlap};
      const std::vector<Trace> tr = run_sgp(run);
      const std::size_t n = tr[0].z[0].size();
      auto model = tiny_model(kBatch);
      Sgd ref(run.sgd, model->ranges(), n);
      for (std::size_t t = 0; t < std::size_t(run.steps); ++t) {
        // The optimizer acts on the numerators each rank holds; the pushes in flight ride along.
        std::vector<float> X(n), V(n, 0.0f), G(n, 0.0f);
        const std::vector<double> own = total(tr, t, false), all = total(tr, t, true);
        for (std::size_t i = 0; i < n; ++i) X[i] = float(own[i]);
        for (const Trace& r : tr)
          for (std::size_t i = 0; i < n; ++i) {
            V[i] += r.v[t][i];
            G[i] += r.g[t][i];
          }
        std::copy(V.begin(), V.end(), ref.momentum().begin());
        ref.step(X, G, run.lr);
        const std::vector<double> next = total(tr, t + 1, true);
        double scale = 1, dx = 0, dv = 0;
        for (std::size_t i = 0; i < n; ++i) {
          double v1 = 0;
          for (const Trace& r : tr) v1 += r.v[t + 1][i];
          scale = std::max({scale, std::abs(next[i]), std::abs(v1)});
          dx = std::max(dx, std::abs(next[i] - (double(X[i]) + all[i] - own[i])));
          dv = std::max(dv, std::abs(v1 - double(ref.momentum()[i])));
        }
        ASSERT_LE(dx, 2e-5 * p * scale) << where(run) << ": sum of numerators after step " << t;
        ASSERT_LE(dv, 2e-5 * p * scale) << where(run) << ": sum of momentum after step " << t;
        ASSERT_NEAR(next[n], double(p), 1e-5 * p) << where(run) << ": sum of weights after step " << t;
        for (std::size_t k = 0; k < tr.size(); ++k) {
          const std::vector<float>& o = tr[k].own[t + 1];
          ASSERT_GT(o[n], 0.0f) << where(run) << " rank " << k;
          for (std::size_t i = 0; i < n; ++i)
            ASSERT_NEAR(tr[k].z[t + 1][i], o[i] / o[n], 1e-6 * (1 + std::abs(o[i] / o[n])))
                << where(run) << ": params are not x / w on rank " << k << " after step " << t;
        }
      }
      const std::vector<double> last = total(tr, std::size_t(run.steps), true);
      double fin_w = 0;
      for (std::size_t k = 0; k < tr.size(); ++k) {
        EXPECT_FALSE(tr[k].final_in_flight) << where(run) << " rank " << k << ": a push in flight after finish()";
        EXPECT_NEAR(tr[k].final_own[n], 1.0, 1e-6) << where(run) << " rank " << k << ": weight after finish()";
        fin_w += tr[k].final_own[n];
        for (std::size_t i = 0; i < n; i += 17) {
          double xs = 0;
          for (const Trace& r : tr) xs += r.final_own[i];
          ASSERT_NEAR(xs, last[i], 2e-5 * p * (1 + std::abs(last[i]))) << where(run) << ": finish() lost mass";
        }
      }
      EXPECT_NEAR(fin_w, double(p), 1e-5 * p) << where(run);
    }
}

TEST(Sgp, FollowsTheExponentialGraphPushSum) {
  for (bool overlap : {false, true})
    for (int p : {2, 3, 4, 6, 8, 12}) {
      const SgpRun run{.p = p, .overlap = overlap, .steps = 7, .lr = 0.0};
      const std::vector<Trace> tr = run_sgp(run);
      const std::size_t n = tr[0].z[0].size(), P = std::size_t(p);
      int L = 0;
      while ((1 << L) < p) ++L;
      std::vector<std::vector<double>> x(P), flight;  // [rank][n + 1] (x, w) in double
      for (std::size_t k = 0; k < P; ++k) {
        x[k].assign(tr[k].z[0].begin(), tr[k].z[0].end());
        x[k].push_back(1.0);
      }
      std::size_t flight_shift = 0;
      const auto add_from = [&](const std::vector<std::vector<double>>& halves, std::size_t shift) {
        for (std::size_t k = 0; k < P; ++k)
          for (std::size_t i = 0; i <= n; ++i) x[k][i] += halves[(k + P - shift) % P][i];  // from k - 2^k'
      };
      for (int t = 0; t < run.steps; ++t) {
        const std::size_t shift = std::size_t(1) << (t % L);
        for (auto& r : x)
          for (double& a : r) a *= 0.5;
        const std::vector<std::vector<double>> pushed = x;
        if (!overlap) add_from(pushed, shift);
        else if (!flight.empty()) add_from(flight, flight_shift);
        flight = pushed;
        flight_shift = shift;
        for (std::size_t k = 0; k < P; ++k) {
          EXPECT_EQ(tr[k].partner[std::size_t(t)], int((k + shift) % P)) << where(run) << " step " << t;
          EXPECT_EQ(tr[k].bytes[std::size_t(t)], (n + 1) * sizeof(float)) << where(run) << " step " << t;
          const std::vector<float>& o = tr[k].own[std::size_t(t) + 1];
          ASSERT_NEAR(o[n], x[k][n], 1e-6) << where(run) << ": weight of rank " << k << " after step " << t;
          for (std::size_t i = 0; i < n; ++i)
            ASSERT_NEAR(o[i], x[k][i], 1e-5 * (1 + std::abs(x[k][i])))
                << where(run) << ": numerator " << i << " of rank " << k << " after step " << t;
        }
      }
      if (overlap) add_from(flight, flight_shift);  // finish() adds the last push
      for (std::size_t k = 0; k < P; ++k)
        for (std::size_t i = 0; i <= n; ++i)
          ASSERT_NEAR(tr[k].final_own[i], x[k][i], 1e-5 * (1 + std::abs(x[k][i]))) << where(run) << " after finish()";
    }
}

}  // namespace
}  // namespace gg::sweep
