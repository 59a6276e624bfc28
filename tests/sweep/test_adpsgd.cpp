// AD-PSGD (algorithms/adpsgd.cpp) against its seeded schedule, in process (ranks as threads):
//   every scheduled average (step, active, passive) is applied exactly once on both sides, a passive's
//   averages in active-rank order: each rank's ledger of what it applied (counts and an order-sensitive
//   digest, read after finish()) equals the one computed here from adpsgd_passive;
//   shuffled choice visits every neighbour once per cycle;
//   the parameters and momenta follow the update rule, replayed from the recorded raw gradients:
//     sync:  x_{t+1} = W_t (x_t - lr u_t)                       (u: the local SGD update, momentum local)
//     async: x_{t+1} = (x_t + (W_{t-1} x_t - x_t)) - lr u_t     (W_{-1} = identity)
//   where W_t applies the averages of step t one after another, each passive's in active-rank order.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "core/optim/sgd.hpp"
#include "tests/sweep/sweep_run.hpp"

namespace gg {
// Defined in algorithms/adpsgd.cpp (its schedule and test hooks).
int adpsgd_passive(std::uint64_t seed, int p, std::int64_t step, int active, bool ring, bool shuffled);
std::uint64_t adpsgd_digest(std::uint64_t digest, std::int64_t step, int active, int passive);
void adpsgd_ledger(const Algorithm& algo, std::int64_t& as_active, std::int64_t& as_passive, std::uint64_t& digest);
}  // namespace gg

namespace gg::sweep {
namespace {

using nlohmann::json;

constexpr std::uint64_t kSeed = 11;  // the seed sweep_run.cpp hands every algorithm (AlgorithmEnv::seed)

struct Ledger {
  std::int64_t as_active = 0, as_passive = 0;
  std::uint64_t digest = 0;
  bool operator==(const Ledger&) const = default;
};

void PrintTo(const Ledger& l, std::ostream* os) {
  *os << "{active " << l.as_active << ", passive " << l.as_passive << ", digest " << l.digest << "}";
}

// Which schedule a run uses (the options graph and choice).
struct Sched {
  bool ring = false, shuffled = false;
  json block(const char* timing) const {
    return {{"name", "adpsgd"}, {"timing", timing}, {"graph", ring ? "ring" : "complete"},
            {"choice", shuffled ? "shuffled" : "uniform"}};
  }
};
const Sched kScheds[] = {{false, false}, {false, true}, {true, false}, {true, true}};

std::string label(const char* timing, const Sched& s, int p) {
  return std::string(timing) + (s.ring ? " ring" : " complete") + (s.shuffled ? " shuffled" : " uniform") + " p " +
         std::to_string(p);
}

// The documented split: even ranks with a right neighbour are active, every other rank passive.
bool active(int r, int p) { return r % 2 == 0 && r + 1 < p; }

// The actives that average with passive j at `step`, in rank order.
std::vector<int> choosers(int j, int p, std::int64_t step, const Sched& s) {
  std::vector<int> out;
  for (int a = 0; a < p; ++a)
    if (active(a, p) && adpsgd_passive(kSeed, p, step, a, s.ring, s.shuffled) == j) out.push_back(a);
  return out;
}

std::vector<Ledger> expected_ledgers(int p, int steps, const Sched& s) {
  std::vector<Ledger> out(static_cast<std::size_t>(p));
  for (int t = 0; t < steps; ++t)
    for (int r = 0; r < p; ++r) {
      Ledger& l = out[std::size_t(r)];
      if (active(r, p)) {
        const int j = adpsgd_passive(kSeed, p, t, r, s.ring, s.shuffled);
        EXPECT_FALSE(active(j, p)) << "active " << r << " picked active " << j;
        ++l.as_active;
        l.digest = adpsgd_digest(l.digest, t, r, j);
        continue;
      }
      for (int a : choosers(r, p, t, s)) {
        ++l.as_passive;
        l.digest = adpsgd_digest(l.digest, t, a, r);
      }
    }
  return out;
}

// W_step applied to xs ([rank][n]): y = x_j; for each chooser a in rank order y = (y + x_a)/2, x_a = y; x_j = y.
void average_round(std::vector<std::vector<float>>& xs, std::int64_t step, const Sched& s) {
  const int p = int(xs.size());
  for (int j = 0; j < p; ++j) {
    if (active(j, p)) continue;
    std::vector<float>& y = xs[std::size_t(j)];
    for (int a : choosers(j, p, step, s)) {
      std::vector<float>& x = xs[std::size_t(a)];
      for (std::size_t i = 0; i < y.size(); ++i) y[i] = x[i] = 0.5f * (y[i] + x[i]);
    }
  }
}

// lr > 0, momentum and weight decay (RunSpec's defaults), a different start on every rank.
RunSpec run_spec(const char* timing, const Sched& s, int p, int steps) {
  RunSpec rs;
  rs.block = s.block(timing);
  rs.p = p;
  rs.steps = steps;
  rs.perturb = true;
  return rs;
}

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  double d = 0;
  for (std::size_t i = 0; i < a.size(); ++i) d = std::max(d, std::abs(double(a[i]) - double(b[i])));
  return d;
}

TEST(Adpsgd, AppliesEveryScheduledAverageExactlyOnceOnBothSides) {
  for (const char* timing : {"sync", "async"})
    for (const Sched& s : kScheds)
      for (int p : {2, 3, 4, 5, 6, 8, 12, 16}) {
        const int steps = 7;
        std::vector<Ledger> got(static_cast<std::size_t>(p));
        RunSpec rs = run_spec(timing, s, p, steps);
        rs.inspect = [&](Algorithm& a) {
          Ledger& l = got[std::size_t(a.worker_index())];
          adpsgd_ledger(a, l.as_active, l.as_passive, l.digest);
        };
        run_algorithm(rs);
        const std::vector<Ledger> want = expected_ledgers(p, steps, s);
        std::int64_t by_actives = 0, by_passives = 0;
        for (int r = 0; r < p; ++r) {
          EXPECT_EQ(got[std::size_t(r)], want[std::size_t(r)]) << label(timing, s, p) << " rank " << r;
          by_actives += got[std::size_t(r)].as_active;
          by_passives += got[std::size_t(r)].as_passive;
        }
        EXPECT_EQ(by_actives, std::int64_t(steps) * (p / 2)) << label(timing, s, p);
        EXPECT_EQ(by_passives, by_actives) << label(timing, s, p);
      }
}

// shuffled: every neighbour exactly once per cycle of D steps (D = 2 on the ring, the passive count else).
TEST(Adpsgd, ShuffledChoiceVisitsEveryNeighbourOncePerCycle) {
  for (int p : {2, 3, 4, 5, 8, 12, 16})
    for (bool ring : {false, true}) {
      const int D = ring ? 2 : p - p / 2;
      for (int a = 0; a < p; ++a) {
        if (!active(a, p)) continue;
        for (std::int64_t c = 0; c < 4; ++c) {
          std::vector<int> seen;
          for (std::int64_t k = 0; k < D; ++k) seen.push_back(adpsgd_passive(kSeed, p, c * D + k, a, ring, true));
          std::sort(seen.begin(), seen.end());
          std::vector<int> want;
          if (ring) want = {(a + p - 1) % p, (a + 1) % p};
          else
            for (int j = 0; j < p; ++j)
              if (!active(j, p)) want.push_back(j);
          std::sort(want.begin(), want.end());
          EXPECT_EQ(seen, want) << "p " << p << (ring ? " ring" : " complete") << " active " << a << " cycle " << c;
        }
      }
    }
}

TEST(Adpsgd, FollowsTheUpdateRuleReplayedFromTheRecordedGradients) {
  for (const char* timing : {"sync", "async"})
    for (const Sched& s : kScheds)
      for (int p : {2, 3, 5, 8}) {
        const bool sync = std::string(timing) == "sync";
        const RunSpec rs = run_spec(timing, s, p, 6);
        const std::vector<RankLog> logs = run_algorithm(rs);
        auto model = tiny_model(rs.batch);
        for (std::size_t t = 0; t < std::size_t(rs.steps); ++t) {
          std::vector<std::vector<float>> x(static_cast<std::size_t>(p)), v(x.size());
          for (int r = 0; r < p; ++r) x[std::size_t(r)] = logs[std::size_t(r)].x[t];
          if (!sync && t > 0) {  // the correction toward the averages of step t - 1, on snapshots x_t
            std::vector<std::vector<float>> avg = x;
            average_round(avg, std::int64_t(t) - 1, s);
            for (int r = 0; r < p; ++r)
              for (std::size_t i = 0; i < x[0].size(); ++i)
                x[std::size_t(r)][i] += avg[std::size_t(r)][i] - logs[std::size_t(r)].x[t][i];
          }
          for (int r = 0; r < p; ++r) {
            const RankLog& l = logs[std::size_t(r)];
            Sgd ref(rs.sgd, model->ranges(), model->num_params());
            std::copy(l.v[t].begin(), l.v[t].end(), ref.momentum().begin());
            ref.step(x[std::size_t(r)], l.g[t], rs.lr);
            v[std::size_t(r)].assign(ref.momentum().begin(), ref.momentum().end());
          }
          if (sync) average_round(x, std::int64_t(t), s);
          for (int r = 0; r < p; ++r) {
            const RankLog& l = logs[std::size_t(r)];
            ASSERT_LE(max_abs_diff(x[std::size_t(r)], l.x[t + 1]), 1e-6)
                << label(timing, s, p) << ": parameters of rank " << r << " after step " << t;
            ASSERT_LE(max_abs_diff(v[std::size_t(r)], l.v[t + 1]), 1e-6)
                << label(timing, s, p) << ": momentum of rank " << r << " after step " << t;
          }
        }
      }
}

}  // namespace
}  // namespace gg::sweep
