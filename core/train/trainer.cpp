#include "core/train/trainer.hpp"

#include <algorithm>
#include <string>

#include "core/data/sampler.hpp"
#include "core/train/evaluator.hpp"
#include "core/train/health.hpp"
#include "core/train/progress.hpp"
#include "core/train/step.hpp"

namespace gg {

Trainer::Trainer(const TrainOptions& opt, TrainComms comms, TrainData data, Learner learner, RunSink* sink)
    : opt_(opt), comms_(comms), data_(data), learner_(std::move(learner)), sink_(sink) {}

StepRecord step_record(std::int64_t step, float loss, double step_s, const CommStepTotals& c, const StepStats& st) {
  StepRecord r;
  r.step = step;
  r.loss = loss;
  r.comm_s = float(c.calls_s);
  r.exposed_s = float(c.exposed_s);
  r.total_s = float(c.total_s);
  r.mem_s = float(c.mem_s);
  r.staging_s = float(c.staging_s);
  // Compute is what is left of the step; staging is charged inside communication calls (in comm_s).
  r.compute_s = float(std::max(0.0, step_s - c.calls_s - c.mem_s));
  r.partner = st.partner;
  r.staleness = st.staleness;
  r.bytes_sent = c.bytes_sent;
  r.bytes_recv = c.bytes_recv;
  r.msgs_sent = c.msgs_sent;
  r.mem_bytes = c.mem_bytes;
  return r;
}

void Trainer::flush_steps() {
  // Every worker has taken the same number of steps since the last flush (lockstep by construction).
  const std::size_t k = pending_.size(), bytes = k * sizeof(StepRecord);
  Communicator& workers = comms_.workers;
  const int p = workers.size();
  if (workers.rank() == 0) gathered_.resize(k * p);
  std::vector<StepRecord> by_rank(workers.rank() == 0 ? k * p : 0);
  workers.gather(pending_.data(), bytes, by_rank.data(), 0);
  if (workers.rank() == 0 && sink_) {
    for (int r = 0; r < p; ++r)  // rank-major -> step-major
      for (std::size_t s = 0; s < k; ++s) gathered_[s * p + r] = by_rank[r * k + s];
    sink_->on_steps(gathered_, p);
  }
  pending_.clear();
}

TrainResult Trainer::run() {
  Algorithm& algo = learner_.algorithm;
  // The communicator's clock: wall time under MPI, simulated time under SMPI.
  const auto now_s = [this] { return comms_.world.wtime(); };
  TrainResult result;
  const double t_start = now_s();
  if (!algo.trains()) {  // a parameter server: serve until every worker is done
    algo.serve();
    result.wall_s = now_s() - t_start;
    return result;
  }
  const int workers = algo.num_workers();
  ShardSampler sampler(data_.train.samples(), workers, algo.worker_index(), opt_.batch, opt_.seed, true,
                       data_.partition);
  const std::int64_t per_epoch = sampler.steps_per_epoch();
  const std::int64_t total = opt_.max_steps > 0 ? opt_.max_steps : opt_.epochs * per_epoch;
  // Evaluations at every 1/evals_per_epoch of an epoch (rounded to whole steps) and after the last step.
  const std::int64_t evals = opt_.evals_per_epoch;
  const auto eval_due = [&](std::int64_t done) {
    return done == total || (evals > 0 && (done * evals) / per_epoch != ((done - 1) * evals) / per_epoch);
  };
  const bool leader = comms_.world.rank() == 0;
  Progress progress(leader, total, per_epoch, opt_.batch * workers);
  Evaluator evaluator(comms_.workers, learner_.model, data_.test, opt_.eval_replicas);
  const std::int64_t eval_gap = evals > 0 ? per_epoch / evals + 1 : total;
  pending_.reserve(std::size_t(std::min<std::int64_t>({eval_gap, total, std::int64_t(kStepsPerWrite)})) + 1);
  HealthMonitor health(opt_.max_loss, opt_.health_every, comms_.workers);

  const ComputeNoise noise(opt_.noise, opt_.seed, algo.worker_index(), workers);
  StepRunner runner(algo, learner_.model, learner_.optimizer, opt_.seed, &noise);
  const StepRunner::NextBatch next = [&](Batch& b) { sampler.next(data_.train, b); };
  double eval_s = 0;  // excluded from throughput
  for (std::int64_t step = 0; step < total; ++step) {
    comms_.meter.begin_step();
    const double t0 = now_s();
    const double epoch = double(step) / double(per_epoch);
    const float loss = runner.run(step, total, learner_.lr.at(epoch), next);
    const CommStepTotals c = comms_.meter.end_step();
    const double dt = now_s() - t0;
    pending_.push_back(step_record(step, loss, dt, c, algo.stats()));
    progress.step(step, loss, now_s() - t_start, opt_.log_every);
    health.on_step(step, loss);

    const bool last = step + 1 == total;
    std::string stop;
    if (eval_due(step + 1)) {
      if (last) algo.finish();  // drain in-flight exchanges so replicas are final
      flush_steps();
      const double t_eval = now_s();
      EvalRecord e = evaluator.run();
      e.step = step + 1;
      e.epoch = double(step + 1) / double(per_epoch);
      e.wall_s = now_s() - t_start;
      progress.eval(e, workers > 1);
      if (leader && sink_) sink_->on_eval(e);
      result.last_eval = e;
      eval_s += now_s() - t_eval;
      stop = health.agree(step + 1, &e);
    } else {
      if (health.due(step + 1)) stop = health.agree(step + 1, nullptr);
      if (stop.empty() && pending_.size() >= kStepsPerWrite) flush_steps();
    }
    if (!stop.empty()) {  // every worker, at the same step
      if (!last) algo.finish();
      flush_steps();
      if (leader && sink_) sink_->on_stop(stop);
      result.stopped = stop;
      result.steps = step + 1;
      result.wall_s = now_s() - t_start;
      return result;
    }
  }
  result.steps = total;
  result.wall_s = now_s() - t_start;
  result.images_per_s = double(total) * opt_.batch * workers / std::max(1e-9, result.wall_s - eval_s);
  if (leader && sink_) sink_->on_finish(result.wall_s);
  return result;
}

}  // namespace gg
