// Training invariants under mpiexec with the tiny dense model of test_util.hpp, every step driven by
// StepRunner (the trainer's own step protocol) on deterministic synthetic batches:
//   allreduce: replicas bitwise identical after N steps, and equal within float tolerance to one
//              process training on the global batch (the workers' batches side by side); with timing
//              async, to that process applying each gradient one step late;
//   ps colocated (servers 0): equals allreduce, replicas equal, 2 (p-1)/p of the model sent per step;
//   ps sync:   equals allreduce (over the same workers, same data) within float tolerance, replicas equal,
//              every push applied once;
//   ps async:  every push applied exactly once (server counters), and the servers' final parameters
//              equal init - lr * (sum of all gradients the workers computed) / W, with unequal step
//              counts per worker and with and without a staleness bound.
#include <gtest/gtest.h>

#include <cmath>

#include "algorithms/ps.hpp"
#include "core/layers/softmax_xent.hpp"
#include "tests/mpi/test_util.hpp"

namespace gg {
namespace {

using nlohmann::json;

const SgdOptions kMomentum{.momentum = 0.9, .weight_decay = 5e-4, .nesterov = false};
const SgdOptions kPlain{.momentum = 0.0, .weight_decay = 0.0, .nesterov = false};
constexpr std::int64_t kStride = 1000;  // ids of draw k: k * kStride + [0, global batch)

double max_rel_diff(std::span<const float> a, std::span<const float> b) {
  double worst = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    worst = std::max(worst, std::abs(double(a[i]) - b[i]) / (1e-3 + std::abs(double(b[i]))));
  return worst;
}

// Worker w of W trains samples [w * n, (w + 1) * n) of each draw: together one global batch of W * n.
test::SyntheticBatches worker_batches(int w, int n) { return test::SyntheticBatches(std::int64_t(w) * n, n, kStride); }

// timing sync: step t applies the global batch's gradient of step t; async (the one-step-stale control):
// step 0 applies nothing, step t >= 1 the gradient of step t-1, finish() the last step's.
void expect_allreduce_equals_single_process(const char* timing) {
  SCOPED_TRACE(std::string("timing ") + timing);
  const bool stale = std::string(timing) == "async";
  const int steps = 6;
  test::Rig rig(16, kMomentum);
  const int p = rig.comm.size(), r = rig.comm.rank(), n = std::max(1, 16 / p), G = n * p;
  auto algo = rig.make({{"name", "allreduce"}, {"timing", timing}});
  ASSERT_GT(rig.model->buckets().size(), 1u);
  StepRunner runner(*algo, *rig.model, *rig.sgd, 3);
  test::SyntheticBatches data = worker_batches(r, n);
  for (int t = 0; t < steps; ++t) runner.run(t, steps, 0.1, data.next());
  algo->finish();
  EXPECT_GT(algo->stats().bytes_sent, 0u);

  const std::vector<float> mine(rig.model->params().begin(), rig.model->params().end());
  const std::vector<float> all = test::allgather(rig.comm, mine);
  for (int o = 0; o < p; ++o)
    EXPECT_TRUE(std::equal(mine.begin(), mine.end(), all.begin() + std::ptrdiff_t(o * mine.size())))
        << "replica of rank " << o << " differs";

  // The reference: one process, the whole global batch, plain forward / backward / optimizer step (no
  // algorithm at all, so it shares nothing with what it checks).
  auto ref = test::tiny_model(G);
  Sgd ref_sgd(kMomentum, ref->ranges(), ref->num_params());
  test::SyntheticBatches global = worker_batches(0, G);
  Batch b;
  Tensor dlogits;
  std::vector<float> pending;  // async: the gradient of the previous step
  for (int t = 0; t < steps; ++t) {
    global(b);
    const Tensor& logits = ref->forward(b.x, {Phase::Train, 1});
    softmax_xent(logits, b.labels, &dlogits);
    ref->backward(dlogits, {Phase::Train, 1});
    if (!stale) {
      ref_sgd.step(ref->params(), ref->grads(), 0.1);
      continue;
    }
    if (!pending.empty()) ref_sgd.step(ref->params(), pending, 0.1);
    pending.assign(ref->grads().begin(), ref->grads().end());
  }
  if (stale) ref_sgd.step(ref->params(), pending, 0.1);
  EXPECT_LT(max_rel_diff(mine, ref->params()), 1e-4);
  EXPECT_GT(max_rel_diff(mine, test::tiny_model(G)->params()), 1e-3);  // it did train
}

TEST(Allreduce, ReplicasIdenticalAndEqualToSingleProcess) {
  expect_allreduce_equals_single_process("sync");
  expect_allreduce_equals_single_process("async");
}

// Colocated parameter servers (servers = 0): every rank trains and serves a shard; equals allreduce on
// the same ranks and data within float tolerance, replicas bitwise identical.
TEST(ParameterServer, ColocatedEqualsAllreduce) {
  MpiCommunicator world;
  const int p = world.size(), steps = 5, b = 2;
  auto m_ps = test::tiny_model(b), m_ar = test::tiny_model(b);
  Sgd s_ps(kMomentum, m_ps->ranges(), m_ps->num_params()), s_ar(kMomentum, m_ar->ranges(), m_ar->num_params());
  json cfg{{"name", "ps"}, {"servers", 0}}, ar_cfg{{"name", "allreduce"}};
  JsonReader reader(cfg, "algorithm"), ar_reader(ar_cfg, "algorithm");
  auto ps = make_algorithm(reader, AlgorithmEnv{world, *m_ps, s_ps, 3});
  auto ar = make_algorithm(ar_reader, AlgorithmEnv{world, *m_ar, s_ar, 3});
  ASSERT_TRUE(ps->trains());
  EXPECT_EQ(ps->num_workers(), p);
  EXPECT_EQ(ps->worker_index(), world.rank());
  StepRunner run_ps(*ps, *m_ps, s_ps, 3), run_ar(*ar, *m_ar, s_ar, 3);
  test::SyntheticBatches data_ps = worker_batches(world.rank(), b), data_ar = worker_batches(world.rank(), b);
  std::uint64_t bytes = 0;
  for (int t = 0; t < steps; ++t) {
    run_ps.run(t, steps, 0.1, data_ps.next());
    bytes += ps->stats().bytes_sent;
    run_ar.run(t, steps, 0.1, data_ar.next());
  }
  ps->finish();
  ar->finish();
  // 2 (p-1)/p of the model per step: each other shard pushed, my shard sent to every other rank
  const std::size_t n = m_ps->num_params(), mine = ParameterServer::shard(n, p, world.rank()).count;
  EXPECT_EQ(bytes, steps * (n - mine + std::size_t(p - 1) * mine) * sizeof(float));
  EXPECT_LT(max_rel_diff(m_ps->params(), m_ar->params()), 1e-4);
  EXPECT_GT(max_rel_diff(m_ps->params(), test::tiny_model(b)->params()), 1e-3);  // it did train
  const std::vector<float> mine_x(m_ps->params().begin(), m_ps->params().end());
  const std::vector<float> all = test::allgather(world, mine_x);
  for (int o = 0; o < p; ++o)
    EXPECT_TRUE(std::equal(mine_x.begin(), mine_x.end(), all.begin() + std::ptrdiff_t(o * mine_x.size())))
        << "replica of rank " << o << " differs";
}

TEST(ParameterServer, SyncEqualsAllreduce) {
  MpiCommunicator world;
  const int p = world.size(), steps = 5, b = 2;
  for (int servers = 1; servers <= std::min(2, p - 1); ++servers) {
    SCOPED_TRACE(std::to_string(servers) + " server(s)");
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
    StepRunner run_ps(*ps, *m_ps, s_ps, 3), run_ar(*ar, *m_ar, s_ar, 3);
    test::SyntheticBatches data_ps = worker_batches(w, b), data_ar = worker_batches(w, b);
    for (int t = 0; t < steps; ++t) {
      run_ps.run(t, steps, 0.1, data_ps.next());
      run_ar.run(t, steps, 0.1, data_ar.next());
    }
    ps->finish();
    ar->finish();
    EXPECT_LT(max_rel_diff(m_ps->params(), m_ar->params()), 1e-4);
    EXPECT_GT(max_rel_diff(m_ps->params(), test::tiny_model(b)->params()), 1e-3);  // it did train
    const std::vector<float> mine(m_ps->params().begin(), m_ps->params().end());
    const std::vector<float> all = test::allgather(*workers, mine);
    for (int o = 0; o < W; ++o)
      EXPECT_TRUE(std::equal(mine.begin(), mine.end(), all.begin() + std::ptrdiff_t(o * mine.size())))
          << "replica of worker " << o << " differs";
  }
}

TEST(ParameterServer, AsyncAppliesEveryPushExactlyOnce) {
  MpiCommunicator world;
  const int p = world.size(), N = 7;
  const double lr = 0.5;
  for (int staleness : {0, 2})
    for (int servers = 1; servers <= std::min(2, p - 1); ++servers) {
      SCOPED_TRACE("staleness " + std::to_string(staleness) + ", " + std::to_string(servers) + " server(s)");
      const int W = p - servers;
      auto m = test::tiny_model(2);
      const std::size_t n = m->num_params();
      Sgd sgd(kPlain, m->ranges(), n);
      json cfg{{"name", "ps"}, {"servers", servers}, {"mode", "async"}, {"staleness", staleness}};
      JsonReader reader(cfg, "algorithm");
      auto ps = make_algorithm(reader, AlgorithmEnv{world, *m, sgd, 3});
      auto& alg = dynamic_cast<ParameterServer&>(*ps);
      std::vector<std::int64_t> counts(std::size_t(W), 0);
      std::vector<double> pushed(n, 0.0);  // sum of the gradients this worker computed
      if (ps->trains()) {
        const int w = ps->worker_index();
        test::GradientTap tap(*ps, *m);
        StepRunner runner(tap, *m, sgd, 3);
        test::SyntheticBatches data = worker_batches(w, 2);
        const int steps = N + w;  // unequal step counts: workers never wait for each other
        for (int t = 0; t < steps; ++t) runner.run(t, steps, lr, data.next());
        tap.finish();
        ASSERT_EQ(tap.steps(), std::size_t(steps));
        for (int t = 0; t < steps; ++t)
          for (std::size_t i = 0; i < n; ++i) pushed[i] += tap.at(std::size_t(t))[i];
      } else {
        ps->serve();
        counts = alg.applied_pushes();
      }
      const std::vector<double> all_pushed = test::allgather(world, pushed);  // servers contribute zeros
      if (!ps->trains()) {
        // Final shard = init - lr * (sum over workers and steps of the gradient) / W.
        const Bucket sh = ParameterServer::shard(n, servers, alg.server_index());
        const auto fresh = test::tiny_model(2);
        const auto init = fresh->params().subspan(sh.offset, sh.count);
        double worst = 0, moved = 0;
        for (std::size_t i = 0; i < sh.count; ++i) {
          double total = 0;
          for (int w = 0; w < W; ++w) total += all_pushed[std::size_t(w) * n + sh.offset + i];
          const double expect = init[i] - lr * total / W;
          worst = std::max(worst, std::abs(double(alg.shard_params()[i]) - expect) / (1 + std::abs(expect)));
          moved = std::max(moved, std::abs(expect - init[i]));
        }
        EXPECT_LT(worst, 1e-5) << "server " << alg.server_index();
        EXPECT_GT(moved, 1e-3) << "the gradients must move the parameters for this check to mean anything";
      }
      const auto all = test::allgather(world, counts);
      for (int r = W; r < p; ++r)
        for (int w = 0; w < W; ++w)
          EXPECT_EQ(all[std::size_t(r * W + w)], N + w) << "server rank " << r << " worker " << w;
    }
}

}  // namespace
}  // namespace gg
