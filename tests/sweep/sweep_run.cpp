#include "tests/sweep/sweep_run.hpp"

#include <cmath>

#include "algorithms/registry.hpp"
#include "core/comm/inproc_communicator.hpp"
#include "core/train/final_average.hpp"
#include "core/train/step.hpp"
#include "core/util/rng.hpp"
#include "tests/sweep/alloc_count.hpp"

namespace gg::sweep {

namespace {

void snapshot(std::vector<std::vector<float>>& into, std::span<const float> x) { into.emplace_back(x.begin(), x.end()); }

void run_rank(const RunSpec& spec, Communicator& comm, RankLog& log) {
  if (!spec.gpus.empty() && spec.gpus.size() < std::size_t(comm.size()))
    throw std::logic_error("RunSpec: fewer GPU contexts than ranks");
  auto model = tiny_model(spec.batch, 256,
                          spec.gpus.empty() ? Placement{} : Placement{spec.gpus[std::size_t(comm.rank())], true});
  Sgd sgd(spec.sgd, model->ranges(), model->num_params());
  const AlgorithmSpec a = find_algorithm(spec.block.at("name").get<std::string>(), "algorithm.name");
  const AlgorithmOptions opt = algorithm_options(a, spec.block);
  rank_layout(a, opt, comm.size(), "algorithm");
  auto algo = a.make(opt, AlgorithmEnv{comm, *model, sgd, kRunSeed});
  // The trainer's workers communicator (servers apart), split before anyone serves.
  const bool averaged = spec.final_average != FinalAverage::None;
  const std::unique_ptr<Communicator> workers = averaged ? comm.split(algo->trains() ? 0 : 1) : nullptr;
  if (!algo->trains()) {
    algo->serve();
    if (spec.inspect) spec.inspect(*algo);
    return;
  }
  const int w = algo->worker_index(), W = algo->num_workers(), T = spec.steps;
  if (spec.perturb) {
    Rng rng(seed_of(99, std::uint64_t(w)));
    for (float& x : model->params()) x += rng.uniform() - 0.5f;
    for (float& v : sgd.momentum()) v = 0.2f * (rng.uniform() - 0.5f);
  }
  Recorder rec(*algo, *model);
  StepRunner runner(rec, *model, sgd, 5);
  SyntheticSource source(w, W, spec.batch);
  log.sampled.reserve(std::size_t(T + 1) * std::size_t(spec.batch));
  log.trained_ids.reserve(log.sampled.capacity());
  log.allocations.reserve(std::size_t(T));
  const StepRunner::NextBatch next = [&](Batch& b) {
    source.next(b);
    log.sampled.insert(log.sampled.end(), b.ids.begin(), b.ids.end());
  };
  snapshot(log.x, model->params());
  snapshot(log.v, sgd.momentum());
  for (int t = 0; t < T; ++t) {
    const long before = thread_allocations();
    runner.run(t, T, spec.lr_by_step.empty() ? spec.lr : spec.lr_by_step.at(std::size_t(t)), next);
    log.trained_ids.insert(log.trained_ids.end(), runner.batch().ids.begin(), runner.batch().ids.end());
    const long made = thread_allocations() - before;
    log.allocations.push_back(made);
    log.bytes_sent += rec.stats().bytes_sent;
    snapshot(log.g, rec.raw_grads());
    snapshot(log.x, model->params());
    snapshot(log.v, sgd.momentum());
  }
  algo->finish();
  log.x_final.assign(model->params().begin(), model->params().end());
  log.v_final.assign(sgd.momentum().begin(), sgd.momentum().end());
  if (averaged) {
    FinalAverager(spec.final_average, *workers, *model).run();
    algo->model_replaced();
    log.x_averaged.assign(model->params().begin(), model->params().end());
  }
  log.trained = true;
  if (spec.inspect) spec.inspect(*algo);
}

}  // namespace

std::vector<RankLog> run_algorithm(const RunSpec& spec) {
  std::vector<RankLog> logs(std::size_t(spec.p));
  run_ranks(spec.p, [&](Communicator& comm) { run_rank(spec, comm, logs[std::size_t(comm.rank())]); });
  return logs;
}

std::vector<const RankLog*> workers_of(const std::vector<RankLog>& logs) {
  std::vector<const RankLog*> out;
  for (const RankLog& l : logs)
    if (l.trained) out.push_back(&l);
  return out;
}

double consensus(const std::vector<const RankLog*>& w, std::size_t t) {
  const std::size_t n = w[0]->x[t].size();
  std::vector<double> mean(n, 0.0);
  for (const RankLog* l : w)
    for (std::size_t i = 0; i < n; ++i) mean[i] += l->x[t][i] / double(w.size());
  double norm = 0, dist = 0;
  for (double m : mean) norm += m * m;
  for (const RankLog* l : w) {
    double d = 0;
    for (std::size_t i = 0; i < n; ++i) d += (l->x[t][i] - mean[i]) * (l->x[t][i] - mean[i]);
    dist += std::sqrt(d);
  }
  return dist / double(w.size()) / std::max(1e-30, std::sqrt(norm));
}

}  // namespace gg::sweep
