// The per-step path of every algorithm allocates nothing after warm-up: operator new is counted
// (this executable replaces it) around begin_step / shuffle / poll / on_bucket_ready / finish_step.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "core/layers/softmax_xent.hpp"
#include "tests/mpi/test_util.hpp"

namespace {
std::atomic<long> g_news{0};  // test instrumentation only
}

void* operator new(std::size_t n) {
  g_news.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace gg {
namespace {

using nlohmann::json;

// Runs `steps` trainer-like steps; returns the allocations made inside algorithm calls in the last
// `measured` steps.
long algorithm_allocations(test::Rig& rig, Algorithm& a, int steps, int measured) {
  Model& m = *rig.model;
  Tensor x({4, 1, 1, 8}), dlogits;
  Batch batch;
  batch.x.resize({4, 1, 1, 8});
  batch.labels.assign(4, 0);
  batch.ids.assign(4, 0);
  long inside = 0;
  auto count = [&](int t, auto&& f) {
    const long before = g_news.load();
    f();
    if (t >= steps - measured) inside += g_news.load() - before;
  };
  for (int t = 0; t < steps; ++t) {
    for (int i = 0; i < 4; ++i) {
      batch.ids[std::size_t(i)] = rig.comm.rank() * 1000 + t * 4 + i;
      batch.labels[std::size_t(i)] = i % 4;
      for (int k = 0; k < 8; ++k) batch.x.data()[i * 8 + k] = float((t + i + k) % 5) * 0.1f;
    }
    count(t, [&] { a.begin_step(t); });
    count(t, [&] { a.shuffle(batch); });
    const RunContext ctx{Phase::Train, 1};
    const Tensor& logits = m.forward(batch.x, ctx, [&] { count(t, [&] { a.poll(); }); });
    softmax_xent(logits, batch.labels, &dlogits);
    m.backward(
        dlogits, ctx, [&](const Bucket& b) { count(t, [&] { a.on_bucket_ready(b); }); },
        [&] { count(t, [&] { a.poll(); }); });
    TrainState st{m, *rig.sgd, 0.01, t};
    count(t, [&] { a.finish_step(st); });
  }
  a.finish();
  return inside;
}

TEST(SteadyState, AlgorithmsAllocateNothingPerStep) {
  const long before = g_news.load();
  delete new std::vector<int>(3);  // the instrumentation sees allocations: two here
  ASSERT_EQ(g_news.load() - before, 2);
  const json configs[] = {
      {{"name", "allreduce"}},
      {{"name", "gossip"}, {"exchange", "gradients"}, {"timing", "sync"}},
      {{"name", "gossipgrad"}, {"exchange", "gradients"}, {"timing", "async"}, {"shuffle", true}},
      {{"name", "gossipgrad"}, {"topology", "dissemination"}, {"rotation", "permutation"},
       {"exchange", "parameters"}, {"timing", "async"}, {"shuffle", true}},
      {{"name", "gossipgrad"}, {"exchange", "parameters"}, {"timing", "sync"}, {"shuffle", false}},
      {{"name", "ps"}, {"mode", "sync"}},
      {{"name", "ps"}, {"mode", "async"}, {"staleness", 1}},
  };
  for (const json& cfg : configs) {
    test::Rig rig(4, SgdOptions{});
    auto a = rig.make(cfg);
    if (!a->trains()) {
      a->serve();
      continue;
    }
    EXPECT_EQ(algorithm_allocations(rig, *a, 12, 6), 0) << cfg.dump();
  }
}

}  // namespace
}  // namespace gg
