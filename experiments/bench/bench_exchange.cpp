// Exchange primitives over MPI, in GB/s of payload per rank, at 4 KB .. 64 MB:
//   Allreduce     MpiCommunicator::iallreduce_sum + wait over all ranks (what allreduce SGD does per bucket)
//   AllreduceBlocking  MpiCommunicator::allreduce_sum, for comparison
//   PairExchange  isend/irecv with the hypercube partner of the step, both directions (one gossip step)
//   PsPushPull    workers push a gradient slice to server rank p-1 and pull a parameter slice back;
//                 the server sums the pushes and answers (one sync ps step, 1 server, p-1 workers)
// Run under mpiexec with 2 or more ranks (hypercube needs a power of two); rank 0 reports.
//   mpiexec --allow-run-as-root --oversubscribe -n 2 build/.../bench_exchange
// Every element is distinct (rank- and index-dependent) so a wrong exchange shows in the check that
// runs once per size before timing; a mismatch aborts the benchmark with a message.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdio>
#include <memory>
#include <vector>

#include "algorithms/schedule.hpp"
#include "core/comm/mpi_communicator.hpp"
#include "core/comm/mpi_session.hpp"

namespace {

using gg::Communicator;
using gg::Request;

// Exact small integers (< 2^24): distinct over ranks and over the first 2^20 elements of a message.
float value(int rank, std::size_t i) { return float((i % (std::size_t(1) << 20)) * 16 + std::size_t(rank % 16)); }

void fill(std::vector<float>& v, int rank) {
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = value(rank, i);
}

// Times one collective iteration with the slowest rank's wall time (max over ranks).
template <class F>
void run_timed(benchmark::State& state, Communicator& c, std::size_t bytes, F&& once) {
  for (auto _ : state) {
    c.barrier();
    const double t0 = c.wtime();
    once();
    const double dt = c.wtime() - t0;
    std::vector<double> all(static_cast<std::size_t>(c.size()));
    c.gather(&dt, sizeof dt, all.data(), 0);
    double worst = dt;
    for (double x : all) worst = std::max(worst, x);
    c.broadcast(&worst, sizeof worst, 0);
    state.SetIterationTime(worst);
  }
  state.SetBytesProcessed(std::int64_t(state.iterations()) * std::int64_t(bytes));
  state.counters["GB/s"] = benchmark::Counter(double(state.iterations()) * double(bytes) / 1e9,
                                              benchmark::Counter::kIsRate);
}

void check(Communicator& c, bool ok, const char* what, std::size_t bytes) {
  if (!ok) {
    std::fprintf(stderr, "bench_exchange: rank %d: %s produced wrong data at %zu bytes\n", c.rank(), what, bytes);
    c.abort(4);
  }
}

void BM_Allreduce(benchmark::State& state, Communicator& c) {
  const std::size_t n = std::size_t(state.range(0)) / sizeof(float);
  std::vector<float> x(n);
  fill(x, c.rank());
  c.iallreduce_sum(x).wait();
  bool ok = true;
  for (std::size_t i = 0; i < n; i += 97) {
    double want = 0;
    for (int r = 0; r < c.size(); ++r) want += value(r, i);
    ok = ok && std::abs(x[i] - want) <= 1e-4 * (1 + std::abs(want));
  }
  check(c, ok, "allreduce", n * 4);
  run_timed(state, c, n * 4, [&] { c.iallreduce_sum(x).wait(); });
}

// The blocking collective, for comparison (Open MPI serves it from coll/tuned, the nonblocking one from
// libnbc, whose large-message algorithms differ).
void BM_AllreduceBlocking(benchmark::State& state, Communicator& c) {
  const std::size_t n = std::size_t(state.range(0)) / sizeof(float);
  std::vector<float> x(n);
  fill(x, c.rank());
  run_timed(state, c, n * 4, [&] { c.allreduce_sum(x); });
}

void BM_PairExchange(benchmark::State& state, Communicator& c) {
  const std::size_t n = std::size_t(state.range(0)) / sizeof(float);
  std::vector<float> out(n), in(n);
  fill(out, c.rank());
  gg::Schedule sched({gg::Topology::Hypercube, gg::Rotation::None, 0}, c.rank(), c.size());
  std::int64_t step = 0;
  auto once = [&] {
    const gg::Partners q = sched.at(step++);
    Request r = c.irecv(in.data(), n * 4, q.recv_from, 1);
    Request s = c.isend(out.data(), n * 4, q.send_to, 1);
    r.wait();
    s.wait();
  };
  once();
  const int from = gg::partners_at(c.rank(), c.size(), 0, {}).recv_from;
  bool ok = true;
  for (std::size_t i = 0; i < n; i += 97) ok = ok && in[i] == value(from, i);
  check(c, ok, "pair exchange", n * 4);
  run_timed(state, c, n * 4, once);
}

void BM_PsPushPull(benchmark::State& state, Communicator& c) {
  const int p = c.size(), server = p - 1, W = p - 1;
  const std::size_t n = std::size_t(state.range(0)) / sizeof(float);
  std::vector<float> grad(n), params(n), inbox(n);
  fill(grad, c.rank());
  std::vector<Request> replies(static_cast<std::size_t>(W));
  auto once = [&] {
    if (c.rank() != server) {  // worker: post the pull, push, wait
      Request pull = c.irecv(params.data(), n * 4, server, 3);
      c.send(grad.data(), n * 4, server, 2);
      pull.wait();
      return;
    }
    std::fill(params.begin(), params.end(), 0.0f);
    for (int i = 0; i < W; ++i) {
      std::size_t got = 0;
      const int w = c.recv_any(inbox.data(), n * 4, 2, &got);
      (void)w;
      for (std::size_t k = 0; k < n; ++k) params[k] += inbox[k];
    }
    for (int w = 0; w < W; ++w) replies[std::size_t(w)] = c.isend(params.data(), n * 4, w, 3);
    for (auto& r : replies) r.wait();
  };
  once();
  if (c.rank() != server) {
    bool ok = true;
    for (std::size_t i = 0; i < n; i += 97) {
      double want = 0;
      for (int r = 0; r < W; ++r) want += value(r, i);
      ok = ok && std::abs(params[i] - want) <= 1e-4 * (1 + std::abs(want));
    }
    check(c, ok, "ps push+pull", n * 4);
  }
  run_timed(state, c, n * 4, once);
}

// Registered from main with the communicator bound (no global state). Every rank must run the same
// iterations: a fixed iteration count per size keeps the ranks in lockstep.
void register_all(Communicator& c) {
  using Fn = void (*)(benchmark::State&, Communicator&);
  const std::pair<const char*, Fn> all[] = {
      {"Allreduce", BM_Allreduce},
      {"AllreduceBlocking", BM_AllreduceBlocking},
      {"PairExchange", BM_PairExchange},
      {"PsPushPull", BM_PsPushPull}};
  for (const auto& [name, fn] : all)
    for (std::int64_t s = 4 << 10; s <= 64 << 20; s *= 4)
      benchmark::RegisterBenchmark(name, [fn, &c](benchmark::State& st) { fn(st, c); })
          ->Arg(s)
          ->UseManualTime()
          ->Unit(benchmark::kMillisecond)
          ->Iterations(s <= (256 << 10) ? 200 : s <= (4 << 20) ? 40 : 8);
}

// Benchmark's own console output only on rank 0; other ranks still run every iteration in lockstep.
class Quiet : public benchmark::BenchmarkReporter {
 public:
  bool ReportContext(const Context&) override { return true; }
  void ReportRuns(const std::vector<Run>&) override {}
};

}  // namespace

int main(int argc, char** argv) {
  gg::MpiSession session(&argc, &argv);
  gg::MpiCommunicator world;
  if (world.size() < 2 || !gg::is_power_of_two(world.size())) {
    if (world.rank() == 0) std::fprintf(stderr, "bench_exchange: run under mpiexec with 2, 4, 8, ... ranks\n");
    return 2;
  }
  benchmark::Initialize(&argc, argv);
  register_all(world);
  if (world.rank() == 0) {
    std::printf("bench_exchange: %d ranks, %s\n", world.size(), world.library_version().c_str());
    benchmark::RunSpecifiedBenchmarks();
  } else {
    Quiet quiet;
    benchmark::RunSpecifiedBenchmarks(&quiet);
  }
  benchmark::Shutdown();
  return 0;
}
