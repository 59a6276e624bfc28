// Gossip invariants under mpiexec, through the real algorithm objects (no training):
//   mixing: parameters exchange with lr = 0 -> after log2 p steps (one more when async) every rank
//           holds the global mean, for hypercube and dissemination and every rotation; the global
//           sum is preserved at every step;
//   gradients: one sync step averages with exactly the scheduled partner; async applies it one late;
//   rotation: every rank computes the identical schedule (gathered and compared) and meets more
//           distinct partners with rotation than without;
//   shuffle: the ids trained at step t >= 1 are, over all ranks, exactly those sampled at t-1.
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

double global_sum(Communicator& c, std::span<const float> x) {
  double s = 0;
  for (float v : x) s += v;
  std::vector<double> v{s};
  c.allreduce_sum(v);
  return v[0];
}

// Drives one step the way the trainer does (buckets announced in order, polls in between).
void step(Algorithm& a, Model& m, Sgd& sgd, std::int64_t t, double lr) {
  a.begin_step(t);
  a.poll();
  for (const Bucket& b : m.buckets()) {
    a.on_bucket_ready(b);
    a.poll();
  }
  TrainState st{m, sgd, lr, t};
  a.finish_step(st);
}

TEST(GossipMixing, ParametersReachTheGlobalMeanAndKeepTheSum) {
  const char* topologies[] = {"hypercube", "dissemination"};
  const char* rotations[] = {"none", "shift", "permutation"};
  for (const char* top : topologies)
    for (const char* rot : rotations)
      for (const char* timing : {"sync", "async"}) {
        test::Rig rig(4, kPlain);
        const int p = rig.comm.size(), r = rig.comm.rank(), L = cycle_length(p);
        auto algo = rig.make({{"name", "gossipgrad"}, {"topology", top}, {"rotation", rot},
                              {"exchange", "parameters"}, {"timing", timing}, {"shuffle", false}});
        std::span<float> w = rig.model->params();
        for (std::size_t i = 0; i < w.size(); ++i) w[i] = float((r + 1) * (i % 5 + 1));  // a constant vector per rank
        std::fill(rig.model->grads().begin(), rig.model->grads().end(), 1.0f);   // lr = 0: ignored
        const double sum0 = global_sum(rig.comm, w);
        const int lag = std::string(timing) == "async" ? 1 : 0;
        for (int t = 0; t < 2 * L + lag; ++t) {
          step(*algo, *rig.model, *rig.sgd, t, 0.0);
          EXPECT_NEAR(global_sum(rig.comm, w), sum0, 1e-5 * sum0) << top << " " << rot << " " << timing << " t " << t;
          if (t + 1 - lag == L) {
            bool at_mean = true;
            for (std::size_t i = 0; i < w.size(); ++i) {
              const double mean = (p + 1) / 2.0 * double(i % 5 + 1);
              at_mean = at_mean && std::abs(w[i] - mean) <= 1e-5 * mean;
            }
            EXPECT_TRUE(at_mean) << top << " " << rot << " " << timing << ": not at the mean after " << L + lag
                                 << " steps";
          }
        }
        algo->finish();
      }
}

TEST(GossipExchange, GradientsAverageWithTheScheduledPartner) {
  for (const char* timing : {"sync", "async"}) {
    test::Rig rig(4, kPlain);
    const int p = rig.comm.size(), r = rig.comm.rank();
    auto algo = rig.make({{"name", "gossipgrad"}, {"topology", "dissemination"}, {"rotation", "permutation"},
                          {"exchange", "gradients"}, {"timing", timing}, {"shuffle", false}});
    const ScheduleSpec spec{Topology::Dissemination, Rotation::Permutation, 11};
    std::span<float> w = rig.model->params(), g = rig.model->grads();
    std::fill(w.begin(), w.end(), 0.0f);
    auto grad_of = [](int rank, int t) { return float(4 * rank + t + 1); };  // g of rank at step t
    double expect = 0;
    for (int t = 0; t < 5; ++t) {
      std::fill(g.begin(), g.end(), grad_of(r, t));
      step(*algo, *rig.model, *rig.sgd, t, 1.0);
      EXPECT_EQ(algo->stats().partner, partners_at(r, p, t, spec).send_to);
      if (std::string(timing) == "sync") {
        expect -= 0.5 * (grad_of(r, t) + grad_of(partners_at(r, p, t, spec).recv_from, t));
      } else if (t == 0) {
        expect -= grad_of(r, 0);
      } else {
        expect -= 0.5 * (grad_of(r, t) + grad_of(partners_at(r, p, t - 1, spec).recv_from, t - 1));
      }
      bool ok = true;
      for (float x : w) ok = ok && x == float(expect);
      EXPECT_TRUE(ok) << timing << " step " << t << ": " << w[0] << " != " << expect;
    }
    algo->finish();
    EXPECT_GT(algo->stats().bytes_sent, 0u);
  }
}

TEST(GossipRotation, AllRanksAgreeAndRotationMeetsMorePartners) {
  MpiCommunicator c;
  const int p = c.size(), r = c.rank(), L = cycle_length(p), steps = 12 * L;
  struct Case {
    ScheduleSpec spec;
    bool more;  // expected to meet more partners than without rotation (p >= 4)
  };
  const Case cases[] = {{{Topology::Hypercube, Rotation::None, 3}, false},
                        {{Topology::Hypercube, Rotation::Shift, 3}, true},
                        {{Topology::Hypercube, Rotation::Permutation, 3}, true},
                        {{Topology::Dissemination, Rotation::Permutation, 3}, true}};
  for (const Case& k : cases) {
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

void fill_batch(Batch& b, int n, std::int64_t first_id) {
  b.x.resize({n, 1, 1, 8});
  b.labels.resize(std::size_t(n));
  b.ids.resize(std::size_t(n));
  for (int i = 0; i < n; ++i) {
    const std::int64_t id = first_id + i;
    b.ids[std::size_t(i)] = id;
    b.labels[std::size_t(i)] = std::int32_t(id % 4);
    for (int j = 0; j < 8; ++j) b.x.data()[i * 8 + j] = float(id) + 0.125f * float(j);
  }
}

TEST(GossipShuffle, NothingLostNothingDuplicated) {
  for (const char* top : {"hypercube", "dissemination"}) {
    test::Rig rig(6, kPlain);
    const int p = rig.comm.size(), r = rig.comm.rank(), K = 9;
    auto algo = rig.make({{"name", "gossipgrad"}, {"topology", top}, {"rotation", "permutation"},
                          {"shuffle", true}});
    std::vector<std::int64_t> sampled, trained;  // per step: 6 slots, -1 where the batch was smaller
    Batch b;
    bool data_follows_ids = true;
    for (int t = 0; t < K; ++t) {
      const int n = t == K - 2 ? 3 : 6;  // one short batch, as at an epoch's end
      fill_batch(b, n, std::int64_t(r) * 100000 + t * 100);
      for (int i = 0; i < 6; ++i) sampled.push_back(i < n ? b.ids[std::size_t(i)] : -1);
      algo->begin_step(t);
      algo->shuffle(b);
      algo->poll();
      for (int i = 0; i < 6; ++i) trained.push_back(i < b.size() ? b.ids[std::size_t(i)] : -1);
      for (int i = 0; i < b.size(); ++i) {
        const std::int64_t id = b.ids[std::size_t(i)];
        data_follows_ids = data_follows_ids && b.labels[std::size_t(i)] == id % 4 &&
                           b.x.data()[i * 8 + 7] == float(id) + 0.875f && b.x.shape().n == b.size();
      }
    }
    algo->finish();
    EXPECT_TRUE(data_follows_ids);
    const auto all_s = test::allgather(rig.comm, sampled), all_t = test::allgather(rig.comm, trained);
    auto ids_at = [&](const std::vector<std::int64_t>& all, int t) {
      std::multiset<std::int64_t> m;
      for (int o = 0; o < p; ++o)
        for (int i = 0; i < 6; ++i) {
          const std::int64_t id = all[std::size_t((o * K + t) * 6 + i)];
          if (id >= 0) m.insert(id);
        }
      return m;
    };
    EXPECT_EQ(ids_at(all_t, 0), ids_at(all_s, 0)) << top;
    for (int t = 1; t < K; ++t) EXPECT_EQ(ids_at(all_t, t), ids_at(all_s, t - 1)) << top << " step " << t;
    if (p > 1) {
      EXPECT_NE(trained[6], sampled[0]);  // step 1 trains another rank's samples
    }
  }
}

}  // namespace
}  // namespace gg
