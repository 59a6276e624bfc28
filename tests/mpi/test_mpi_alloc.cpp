// The per-step path allocates nothing after warm-up: operator new is counted (this executable replaces
// it) inside every algorithm call that StepRunner makes (begin_step / shuffle / poll / on_bucket_ready /
// finish_step, observed through a forwarding wrapper) and around the whole StepRunner::run, which also
// covers the forward and backward passes, the loss and the batch hand-over (step.hpp promises nothing
// is allocated once the buffers have reached their size).
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

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

// Counts the allocations made inside the wrapped algorithm's per-step calls while `measuring`.
class CountingAlgorithm : public test::Forwarding {
 public:
  using Forwarding::Forwarding;
  bool measuring = false;
  long inside = 0;

  void begin_step(std::int64_t step) override { count([&] { inner_.begin_step(step); }); }
  void shuffle(Batch& batch) override { count([&] { inner_.shuffle(batch); }); }
  void poll() override { count([&] { inner_.poll(); }); }
  void on_bucket_ready(const Bucket& bucket) override { count([&] { inner_.on_bucket_ready(bucket); }); }
  void finish_step(TrainState& state) override { count([&] { inner_.finish_step(state); }); }

 private:
  template <class F>
  void count(F&& f) {
    const long before = g_news.load();
    f();
    if (measuring) inside += g_news.load() - before;
  }
};

struct Allocations {
  long in_algorithm = 0;  // inside the algorithm's calls
  long in_step = 0;       // inside StepRunner::run as a whole (batch draw included)
  long warm_up = 0;       // inside StepRunner::run at step 0 (buffers reach their size: some)
};

// Runs `steps` steps through StepRunner; counts the allocations of the last `measured` ones.
Allocations step_allocations(test::Rig& rig, Algorithm& a, int steps, int measured) {
  CountingAlgorithm counted(a);
  StepRunner runner(counted, *rig.model, *rig.sgd, 1);
  test::SyntheticBatches data(rig.comm.rank() * 100000, 4);
  const StepRunner::NextBatch next = data.next();
  Allocations n;
  for (int t = 0; t < steps; ++t) {
    counted.measuring = t >= steps - measured;
    const long before = g_news.load();
    runner.run(t, steps, 0.01, next);
    if (counted.measuring) n.in_step += g_news.load() - before;
    if (t == 0) n.warm_up = g_news.load() - before;
  }
  counted.measuring = false;
  counted.finish();
  n.in_algorithm = counted.inside;
  return n;
}

TEST(SteadyState, AlgorithmsAllocateNothingPerStep) {
  {  // the instrumentation sees allocations (called through a volatile pointer: not optimized away)
    void* (*volatile allocate)(std::size_t) = &::operator new;
    const long before = g_news.load();
    void* block = allocate(24);
    ASSERT_EQ(g_news.load() - before, 1);
    ::operator delete(block);
  }
  MpiCommunicator world;
  const std::string any = test::any_p_topology(world.size());  // hypercube needs a power of two
  const json configs[] = {
      {{"name", "allreduce"}},
      {{"name", "gossip"}, {"topology", any}, {"exchange", "gradients"}, {"timing", "sync"}},
      {{"name", "gossipgrad"}, {"topology", any}, {"exchange", "gradients"}, {"timing", "async"}, {"shuffle", "ring"}},
      {{"name", "gossipgrad"}, {"topology", "dissemination"}, {"rotation", "permutation"},
       {"exchange", "parameters"}, {"timing", "async"}, {"shuffle", "partner"}},
      {{"name", "gossipgrad"}, {"topology", any}, {"exchange", "parameters"}, {"timing", "sync"}, {"shuffle", "none"}},
      {{"name", "ps"}, {"mode", "sync"}},
      {{"name", "ps"}, {"mode", "async"}, {"staleness", 1}},
      {{"name", "allreduce"}, {"timing", "async"}},
      {{"name", "ps"}, {"servers", 0}},
      {{"name", "gossipgrad"}, {"topology", any}, {"async_rule", "average"}},
  };
  for (const json& cfg : configs) {
    test::Rig rig(4, SgdOptions{});
    auto a = rig.make(cfg);
    if (!a->trains()) {
      a->serve();
      continue;
    }
    const Allocations n = step_allocations(rig, *a, 12, 6);
    EXPECT_EQ(n.in_algorithm, 0) << cfg.dump() << ": allocations inside the algorithm's per-step calls";
    EXPECT_EQ(n.in_step, 0) << cfg.dump() << ": allocations inside StepRunner::run";
    EXPECT_GT(n.warm_up, 0) << cfg.dump() << ": the first step sizes its buffers; the count must see that";
  }
}

}  // namespace
}  // namespace gg
