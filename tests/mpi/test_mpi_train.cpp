// Training invariants under mpiexec with the tiny dense model of test_util.hpp:
//   allreduce: replicas bitwise identical after N steps, and equal within float tolerance to one
//              process training on the global batch;
//   ps sync:   equals allreduce (over the same workers, same data) within float tolerance, replicas equal;
//   ps async:  every push applied exactly once (server counters), and the servers' final parameters
//              equal init - lr * sum of all pushed gradients / W, with unequal step counts per worker
//              and with and without a staleness bound.
#include <gtest/gtest.h>

#include <cmath>

#include "algorithms/ps.hpp"
#include "core/layers/softmax_xent.hpp"
#include "tests/mpi/test_util.hpp"

namespace gg {
namespace {

using nlohmann::json;

const SgdOptions kMomentum{.momentum = 0.9, .weight_decay = 5e-4, .nesterov = false};

// Sample j of step t (every value distinct); label depends on the inputs so training means something.
void make_batch(int t, int first, int n, Tensor& x, std::vector<std::int32_t>& labels) {
  x.resize({n, 1, 1, 8});
  labels.resize(std::size_t(n));
  for (int i = 0; i < n; ++i) {
    const int j = first + i;
    for (int k = 0; k < 8; ++k) x.data()[i * 8 + k] = std::sin(0.37f * float(t * 64 + j) * float(k + 1));
    labels[std::size_t(i)] = (x.data()[i * 8] > 0) + 2 * (x.data()[i * 8 + 1] > 0);
  }
}

// One trainer-like step: forward, loss, backward (buckets -> algorithm), finish_step.
void train_step(Model& m, Sgd& sgd, Algorithm& a, int t, int first, int n, double lr) {
  Tensor x, dlogits;
  std::vector<std::int32_t> labels;
  make_batch(t, first, n, x, labels);
  a.begin_step(t);
  const RunContext ctx{Phase::Train, 1};
  const Tensor& logits = m.forward(x, ctx, [&] { a.poll(); });
  softmax_xent(logits, labels, &dlogits);
  m.backward(dlogits, ctx, [&](const Bucket& b) { a.on_bucket_ready(b); }, [&] { a.poll(); });
  TrainState st{m, sgd, lr, t};
  a.finish_step(st);
}

double max_rel_diff(std::span<const float> a, std::span<const float> b) {
  double worst = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    worst = std::max(worst, std::abs(double(a[i]) - b[i]) / (1e-3 + std::abs(double(b[i]))));
  return worst;
}

TEST(Allreduce, ReplicasIdenticalAndEqualToSingleProcess) {
  const int G = 16, steps = 6;
  test::Rig rig(G, kMomentum);
  const int p = rig.comm.size(), r = rig.comm.rank(), n = G / p;
  auto algo = rig.make({{"name", "allreduce"}});
  ASSERT_GT(rig.model->buckets().size(), 1u);
  for (int t = 0; t < steps; ++t) train_step(*rig.model, *rig.sgd, *algo, t, r * n, n, 0.1);
  algo->finish();
  EXPECT_GT(algo->stats().bytes_sent, 0u);

  const std::vector<float> mine(rig.model->params().begin(), rig.model->params().end());
  const std::vector<float> all = test::allgather(rig.comm, mine);
  for (int o = 0; o < p; ++o)
    EXPECT_TRUE(std::equal(mine.begin(), mine.end(), all.begin() + std::ptrdiff_t(o * mine.size())))
        << "replica of rank " << o << " differs";

  // One process, the whole global batch, plain optimizer step.
  auto ref = test::tiny_model(G);
  Sgd ref_sgd(kMomentum, ref->ranges(), ref->num_params());
  for (int t = 0; t < steps; ++t) {
    Tensor x, dlogits;
    std::vector<std::int32_t> labels;
    make_batch(t, 0, G, x, labels);
    const Tensor& logits = ref->forward(x, {Phase::Train, 1});
    softmax_xent(logits, labels, &dlogits);
    ref->backward(dlogits, {Phase::Train, 1});
    ref_sgd.step(ref->params(), ref->grads(), 0.1);
  }
  EXPECT_LT(max_rel_diff(mine, ref->params()), 1e-4);
  EXPECT_GT(max_rel_diff(mine, test::tiny_model(G)->params()), 1e-3);  // it did train
}

TEST(ParameterServer, SyncEqualsAllreduce) {
  MpiCommunicator world;
  const int p = world.size(), steps = 5, b = 2;
  for (int servers = 1; servers <= std::min(2, p - 1); ++servers) {
    const int W = p - servers;
    const bool worker = world.rank() < W;
    auto workers = world.split(worker ? 0 : 1);
    auto m_ps = test::tiny_model(b), m_ar = test::tiny_model(b);
    Sgd s_ps(kMomentum, m_ps->ranges(), m_ps->num_params()), s_ar(kMomentum, m_ar->ranges(), m_ar->num_params());
    json cfg{{"name", "ps"}, {"servers", servers}, {"mode", "sync"}};
    JsonReader reader(cfg, "algorithm");
    auto ps = make_algorithm(reader, AlgorithmEnv{world, *m_ps, s_ps, 3});
    EXPECT_EQ(ps->num_workers(), W);
    EXPECT_EQ(ps->trains(), worker);
    if (!worker) {
      ps->serve();
      auto& server = dynamic_cast<ParameterServer&>(*ps);
      for (std::int64_t c : server.applied_pushes()) EXPECT_EQ(c, steps);
      continue;
    }
    json ar_cfg{{"name", "allreduce"}};
    JsonReader ar_reader(ar_cfg, "algorithm");
    auto ar = make_algorithm(ar_reader, AlgorithmEnv{*workers, *m_ar, s_ar, 3});
    const int w = ps->worker_index();
    for (int t = 0; t < steps; ++t) {
      train_step(*m_ps, s_ps, *ps, t, w * b, b, 0.1);
      train_step(*m_ar, s_ar, *ar, t, w * b, b, 0.1);
    }
    ps->finish();
    ar->finish();
    EXPECT_LT(max_rel_diff(m_ps->params(), m_ar->params()), 1e-4) << servers << " server(s)";
    const std::vector<float> mine(m_ps->params().begin(), m_ps->params().end());
    const std::vector<float> all = test::allgather(*workers, mine);
    for (int o = 0; o < W; ++o)
      EXPECT_TRUE(std::equal(mine.begin(), mine.end(), all.begin() + std::ptrdiff_t(o * mine.size())));
  }
}

TEST(ParameterServer, AsyncAppliesEveryPushExactlyOnce) {
  MpiCommunicator world;
  const int p = world.size(), N = 7;
  const SgdOptions plain{.momentum = 0.0, .weight_decay = 0.0, .nesterov = false};
  for (int staleness : {0, 2})
    for (int servers = 1; servers <= std::min(2, p - 1); ++servers) {
      const int W = p - servers;
      auto m = test::tiny_model(2);
      Sgd sgd(plain, m->ranges(), m->num_params());
      json cfg{{"name", "ps"}, {"servers", servers}, {"mode", "async"}, {"staleness", staleness}};
      JsonReader reader(cfg, "algorithm");
      auto ps = make_algorithm(reader, AlgorithmEnv{world, *m, sgd, 3});
      auto& alg = dynamic_cast<ParameterServer&>(*ps);
      std::vector<std::int64_t> counts(std::size_t(W), 0);
      if (ps->trains()) {
        const int w = ps->worker_index();
        for (int t = 0; t < N + w; ++t) {  // unequal step counts: workers never wait for each other
          std::fill(m->grads().begin(), m->grads().end(), float(w + 1));
          ps->begin_step(t);
          TrainState st{*m, sgd, 0.5, t};
          ps->finish_step(st);
        }
        ps->finish();
      } else {
        ps->serve();
        counts = alg.applied_pushes();
        // Final shard = init - lr * sum over workers of steps(w) * (w + 1) / W.
        double total = 0;
        for (int w = 0; w < W; ++w) total += double(N + w) * (w + 1) / W;
        const Bucket sh = ParameterServer::shard(m->num_params(), servers, alg.server_index());
        const auto fresh = test::tiny_model(2);
        const auto init = fresh->params().subspan(sh.offset, sh.count);
        double worst = 0;
        for (std::size_t i = 0; i < sh.count; ++i)
          worst = std::max(worst, std::abs(double(alg.shard_params()[i]) - (init[i] - 0.5 * total)));
        EXPECT_LT(worst, 1e-4 * (1 + total)) << "staleness " << staleness;
      }
      const auto all = test::allgather(world, counts);
      for (int r = W; r < p; ++r)
        for (int w = 0; w < W; ++w)
          EXPECT_EQ(all[std::size_t(r * W + w)], N + w) << "server rank " << r << " worker " << w;
    }
}

}  // namespace
}  // namespace gg
