// Gossip invariants under mpiexec, through the real algorithm objects driven by StepRunner (the
// trainer's own step protocol) on deterministic synthetic batches:
//   mixing: parameters exchange with lr = 0 -> every step each rank holds exactly the pairwise average
//           with its scheduled partner (one step late when async; finish() applies the last exchange),
//           the global sum is preserved at every step, and for p = 2^L after L steps (one more when
//           async) every rank holds the global mean; hypercube and dissemination, every rotation;
//   gradients: one sync step averages the gradient this rank computed with the one its scheduled
//           partner computed, and with no other rank's; async applies the partner's one step late;
//   rotation: every rank computes the identical schedule (gathered and compared) and meets more
//           distinct partners with rotation than without;
//   shuffle: every sampled batch is trained exactly once, by one rank: the ids trained over all ranks at
//           step t are exactly those sampled as draw t, each rank's from its scheduled partner, with
//           inputs and labels intact.
// Topologies: hypercube where p is a power of two, dissemination at every p.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "algorithms/schedule.hpp"
#include "tests/mpi/test_util.hpp"

namespace gg {
namespace {

using nlohmann::json;

const SgdOptions kPlain{.momentum = 0.0, .weight_decay = 0.0, .nesterov = false};

double sum_of(std::span<const float> x) {
  double s = 0;
  for (float v : x) s += v;
  return s;
}

std::vector<float> params_of(Model& m) { return {m.params().begin(), m.params().end()}; }

TEST(GossipMixing, ParametersAverageWithTheScheduledPartnerAndKeepTheSum) {
  MpiCommunicator world;
  const int p = world.size(), r = world.rank(), L = cycle_length(p);
  for (const char* top : test::topologies_for(p))
    for (const char* rot : {"none", "shift", "permutation"})
      for (const char* timing : {"sync", "async"}) {
        SCOPED_TRACE(std::string(top) + " " + rot + " " + timing);
        test::Rig rig(4, kPlain);
        auto algo = rig.make({{"name", "gossipgrad"}, {"topology", top}, {"rotation", rot},
                              {"exchange", "parameters"}, {"timing", timing}, {"shuffle", "none"}});
        const ScheduleSpec spec{topology_from(top), rotation_from(rot), 11};
        const std::size_t n = rig.model->num_params();
        std::span<float> w = rig.model->params();
        for (std::size_t i = 0; i < n; ++i) w[i] = float((r + 1) * (i % 5 + 1));  // a constant vector per rank
        const int lag = std::string(timing) == "async" ? 1 : 0, steps = 2 * L + lag;
        StepRunner runner(*algo, *rig.model, *rig.sgd, 5);
        test::SyntheticBatches data(r * 100000);

        // Every rank's parameters after the exchange of step `mixed` is applied to `prev` (all ranks).
        const auto mix = [&](const std::vector<float>& prev, std::int64_t mixed) {
          std::vector<float> e = prev;
          for (int o = 0; o < p; ++o) {
            const int q = partners_at(o, p, mixed, spec).recv_from;
            for (std::size_t i = 0; i < n; ++i)
              e[std::size_t(o) * n + i] = 0.5f * (prev[std::size_t(o) * n + i] + prev[std::size_t(q) * n + i]);
          }
          return e;
        };
        const auto max_diff = [](const std::vector<float>& a, const std::vector<float>& b) {
          double worst = 0;
          for (std::size_t i = 0; i < a.size(); ++i)
            worst = std::max(worst, std::abs(double(a[i]) - b[i]) / std::max(1.0, std::abs(double(b[i]))));
          return worst;
        };

        std::vector<float> prev = test::allgather(world, params_of(*rig.model));
        const double sum0 = sum_of(prev);
        for (int t = 0; t < steps; ++t) {
          runner.run(t, steps, 0.0, data.next());  // lr = 0: the gradients change nothing, only mixing does
          EXPECT_EQ(algo->stats().partner, partners_at(r, p, t, spec).send_to) << "t " << t;
          const std::vector<float> now = test::allgather(world, params_of(*rig.model));
          const std::vector<float> expect = t - lag >= 0 ? mix(prev, t - lag) : prev;
          EXPECT_LT(max_diff(now, expect), 1e-6) << "t " << t << ": not the average with the scheduled partner";
          EXPECT_NEAR(sum_of(now), sum0, 1e-6 * sum0) << "t " << t;
          if (is_power_of_two(p) && t + 1 - lag == L) {
            double worst = 0;
            for (int o = 0; o < p; ++o)
              for (std::size_t i = 0; i < n; ++i) {
                const double mean = (p + 1) / 2.0 * double(i % 5 + 1);
                worst = std::max(worst, std::abs(now[std::size_t(o) * n + i] - mean) / mean);
              }
            EXPECT_LT(worst, 1e-6) << "not at the global mean after " << L + lag << " steps";
          }
          prev = now;
        }
        algo->finish();
        const std::vector<float> last = test::allgather(world, params_of(*rig.model));
        EXPECT_LT(max_diff(last, lag ? mix(prev, steps - 1) : prev), 1e-6)
            << "finish() must apply the last exchange (async) and change nothing else";
        EXPECT_NEAR(sum_of(last), sum0, 1e-6 * sum0);
      }
}

TEST(GossipExchange, GradientsAverageWithTheScheduledPartner) {
  MpiCommunicator world;
  const int p = world.size(), r = world.rank(), steps = 5;
  const double lr = 0.5, tol = 1e-6;
  for (const char* top : test::topologies_for(p))
    for (const char* timing : {"sync", "async"}) {
      SCOPED_TRACE(std::string(top) + " " + timing);
      const bool async = std::string(timing) == "async";
      test::Rig rig(4, kPlain);
      auto inner = rig.make({{"name", "gossipgrad"}, {"topology", top}, {"rotation", "permutation"},
                             {"exchange", "gradients"}, {"timing", timing}, {"shuffle", "none"}});
      test::GradientTap algo(*inner, *rig.model);
      const ScheduleSpec spec{topology_from(top), Rotation::Permutation, 11};
      StepRunner runner(algo, *rig.model, *rig.sgd, 5);
      test::SyntheticBatches data(r * 100000);
      std::vector<std::vector<float>> before, after;  // own parameters around each step
      for (int t = 0; t < steps; ++t) {
        before.push_back(params_of(*rig.model));
        runner.run(t, steps, lr, data.next());
        after.push_back(params_of(*rig.model));
        EXPECT_EQ(algo.stats().partner, partners_at(r, p, t, spec).send_to) << "t " << t;
      }
      algo.finish();
      EXPECT_GT(algo.stats().bytes_sent, 0u);
      ASSERT_EQ(algo.steps(), std::size_t(steps));

      const std::size_t n = rig.model->num_params();
      const std::vector<float> g = test::allgather(world, algo.all());  // [rank][step][param]
      const auto grad = [&](int rank, int t) { return g.data() + (std::size_t(rank) * steps + std::size_t(t)) * n; };
      // Largest deviation of this rank's step-t update from w - lr * (g_r(t) + g_o(s)) / 2.
      const auto deviation = [&](int t, int o, int s) {
        double worst = 0;
        for (std::size_t i = 0; i < n; ++i) {
          const float avg = 0.5f * (grad(r, t)[i] + grad(o, s)[i]);
          worst = std::max(worst, std::abs(double(after[std::size_t(t)][i]) - (before[std::size_t(t)][i] - lr * avg)));
        }
        return worst;
      };
      for (int t = 0; t < steps; ++t) {
        if (async && t == 0) {  // nothing received yet: own gradient alone
          EXPECT_LT(deviation(0, r, 0), tol) << "async step 0 must use its own gradient alone";
          continue;
        }
        const int s = async ? t - 1 : t;  // the step whose exchange is applied
        const int q = partners_at(r, p, s, spec).recv_from;
        EXPECT_LT(deviation(t, q, s), tol) << "step " << t << ": not averaged with rank " << q << "'s gradient of step " << s;
        for (int o = 0; o < p; ++o) {  // and distinguishably so: no other rank's gradient (nor its own) fits
          if (o == q) continue;
          EXPECT_GT(deviation(t, o, s), 100 * tol) << "step " << t << ": rank " << o << " fits as well";
        }
      }
    }
}

TEST(GossipRotation, AllRanksAgreeAndRotationMeetsMorePartners) {
  MpiCommunicator c;
  const int p = c.size(), r = c.rank(), L = cycle_length(p), steps = 12 * L;
  struct Case {
    ScheduleSpec spec;
    bool more;  // expected to meet more partners than without rotation (p >= 4)
  };
  std::vector<Case> cases = {{{Topology::Dissemination, Rotation::None, 3}, false},
                             {{Topology::Dissemination, Rotation::Shift, 3}, false},  // a shift changes nothing
                             {{Topology::Dissemination, Rotation::Permutation, 3}, true}};
  if (is_power_of_two(p))
    cases.insert(cases.end(), {{{Topology::Hypercube, Rotation::None, 3}, false},
                               {{Topology::Hypercube, Rotation::Shift, 3}, true},
                               {{Topology::Hypercube, Rotation::Permutation, 3}, true}});
  for (const Case& k : cases) {
    SCOPED_TRACE("topology " + std::to_string(int(k.spec.topology)) + " rotation " + std::to_string(int(k.spec.rotation)));
    std::vector<int> mine;  // this rank's own schedule: send_to, recv_from per step
    Schedule s(k.spec, r, p);
    for (int t = 0; t < steps; ++t) {
      const Partners q = s.at(t);
      mine.push_back(q.send_to);
      mine.push_back(q.recv_from);
    }
    const std::vector<int> all = test::allgather(c, mine);
    // What every rank computed for itself is what this rank computes for it, and it is consistent.
    for (int o = 0; o < p; ++o)
      for (int t = 0; t < steps; ++t) {
        const Partners q = partners_at(o, p, t, k.spec);
        ASSERT_EQ(all[std::size_t((o * steps + t) * 2)], q.send_to);
        ASSERT_EQ(all[std::size_t((o * steps + t) * 2 + 1)], q.recv_from);
        ASSERT_NE(q.send_to, o);
        ASSERT_EQ(all[std::size_t((q.send_to * steps + t) * 2 + 1)], o);  // my target receives from me
      }
    std::set<int> met;
    for (int t = 0; t < steps; ++t) met.insert(mine[std::size_t(2 * t)]);
    if (k.more && p >= 4) {
      EXPECT_GT(int(met.size()), L);
    } else {
      EXPECT_EQ(int(met.size()), L);
    }
  }
}

TEST(GossipShuffle, EverySampledBatchTrainedExactlyOnce) {
  MpiCommunicator world;
  const int p = world.size(), r = world.rank(), K = 9, B = 6;
  constexpr std::int64_t kRankIds = 100000;  // rank r samples ids in [r * kRankIds, (r + 1) * kRankIds)
  for (const char* route : {"partner", "ring"})
  for (const char* top : test::topologies_for(p)) {
    SCOPED_TRACE(std::string(top) + ", shuffle " + route);
    const bool ring = std::string(route) == "ring";
    test::Rig rig(B, kPlain);
    auto algo = rig.make({{"name", "gossipgrad"}, {"topology", top}, {"rotation", "permutation"}, {"shuffle", route}});
    ASSERT_TRUE(algo->shuffle_lookahead());
    const ScheduleSpec spec{topology_from(top), Rotation::Permutation, 11};
    StepRunner runner(*algo, *rig.model, *rig.sgd, 5);
    // One short draw, as at an epoch's end.
    test::SyntheticBatches data(r * kRankIds, B, 100, [&](std::int64_t k) { return k == K - 2 ? 3 : B; });
    std::vector<std::int64_t> sampled, trained;  // per draw / step: B slots, -1 where the batch was smaller
    const auto slots = [&](std::vector<std::int64_t>& out, const Batch& b) {
      for (int i = 0; i < B; ++i) out.push_back(i < b.size() ? b.ids[std::size_t(i)] : -1);
    };
    const StepRunner::NextBatch next = [&](Batch& b) {
      data(b);
      slots(sampled, b);
    };
    bool data_follows_ids = true, from_partner = true;
    for (int t = 0; t < K; ++t) {
      runner.run(t, K, 0.01, next);
      const Batch& b = runner.batch();
      slots(trained, b);
      data_follows_ids = data_follows_ids && test::batch_matches_ids(b);
      // b_t travelled one hop: from recv_from of the step that posted it (step 0 posts b_0 and b_1);
      // on the ring from rank r+1, whatever the gossip partner.
      const int from = ring ? (r + 1) % p : partners_at(r, p, std::max(t - 1, 0), spec).recv_from;
      for (std::int64_t id : b.ids) from_partner = from_partner && id / kRankIds == from;
    }
    algo->finish();
    EXPECT_EQ(data.draws, K) << "one draw per step: b_0 .. b_" << K - 1;
    EXPECT_TRUE(data_follows_ids) << "a trained sample's inputs or label do not match its id";
    EXPECT_TRUE(from_partner) << "a trained batch did not come from the scheduled partner";
    const auto all_s = test::allgather(world, sampled), all_t = test::allgather(world, trained);
    const auto ids_at = [&](const std::vector<std::int64_t>& all, int t) {
      std::multiset<std::int64_t> m;
      for (int o = 0; o < p; ++o)
        for (int i = 0; i < B; ++i) {
          const std::int64_t id = all[std::size_t((o * K + t) * B + i)];
          if (id >= 0) m.insert(id);
        }
      return m;
    };
    for (int t = 0; t < K; ++t) {
      EXPECT_EQ(ids_at(all_t, t), ids_at(all_s, t)) << "step " << t << " must train exactly draw " << t;
      EXPECT_EQ(ids_at(all_s, t).size(), std::size_t(p * (t == K - 2 ? 3 : B)));
    }
  }
}

}  // namespace
}  // namespace gg
