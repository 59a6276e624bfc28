#include "core/train/trainer.hpp"

#include <algorithm>
#include <exception>
#include <string>

#include "core/data/sampler.hpp"
#include "core/train/evaluator.hpp"
#include "core/train/final_average.hpp"
#include "core/train/health.hpp"
#include "core/train/progress.hpp"
#include "core/train/run_control.hpp"
#include "core/train/step.hpp"
#include "core/util/error.hpp"

namespace gg {

namespace {

// The error message of f, or empty if it returned.
template <class F>
std::string error_of(F&& f) {
  try {
    f();
    return {};
  } catch (const std::exception& e) {
    return e.what();
  }
}

}  // namespace

Trainer::Trainer(const TrainOptions& opt, TrainComms comms, TrainData data, Learner learner, RunSink* sink,
                 CheckpointPlan* plan)
    : opt_(opt), comms_(comms), data_(data), learner_(std::move(learner)), sink_(sink), plan_(plan) {}

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
  check_final_average(opt_.final_average, learner_.algorithm.num_workers());  // every rank, before any step
  return learner_.algorithm.trains() ? train() : serve();
}

TrainResult Trainer::serve() {  // a parameter server: serve until every worker is done
  Algorithm& algo = learner_.algorithm;
  TrainResult result;
  const double t_start = now_s();
  if (plan_ && plan_->resume) {
    StateReader in(*plan_->resume, plan_->resume_source);
    load_server_state(in);
    algo.load_state(in);
    in.finish();
  }
  if (plan_)  // the workers' checkpoints reach the servers inside serve()
    algo.set_checkpoint_hook([this](std::int64_t step, const StateWriter& s) { write_rank(step, "server", s); });
  algo.serve();
  result.wall_s = now_s() - t_start;
  end_run(result, {}, nullptr);
  return result;
}

TrainResult Trainer::train() {
  Algorithm& algo = learner_.algorithm;
  TrainResult result;
  const int workers = algo.num_workers();
  ShardSampler sampler(data_.train.samples(), workers, algo.worker_index(), opt_.batch, opt_.seed, true,
                       data_.partition, data_.owned);
  const std::int64_t per_epoch = sampler.steps_per_epoch();
  const std::int64_t total = opt_.max_steps > 0 ? opt_.max_steps : opt_.epochs * per_epoch;
  // Evaluations at every 1/evals_per_epoch of an epoch (rounded to whole steps) and after the last step.
  const std::int64_t evals = opt_.evals_per_epoch;
  const auto eval_due = [&](std::int64_t done) {
    return done == total || (evals > 0 && (done * evals) / per_epoch != ((done - 1) * evals) / per_epoch);
  };
  RunClock clock;  // where the run is: step 0, or the checkpoint's boundary
  if (plan_ && plan_->resume) {
    StateReader in(*plan_->resume, plan_->resume_source);
    clock = load_worker_state(in, {learner_.model, learner_.optimizer, sampler});
    algo.load_state(in);
    in.finish();
  }
  const double t_start = now_s() - clock.elapsed_s;
  const bool leader = comms_.world.rank() == 0;
  Progress progress(leader, total, per_epoch, opt_.batch * workers);
  Evaluator evaluator(comms_.workers, learner_.model, data_.test, opt_.eval_replicas);
  FinalAverager averager(opt_.final_average, comms_.workers, learner_.model);
  const std::int64_t eval_gap = evals > 0 ? per_epoch / evals + 1 : total;
  pending_.reserve(std::size_t(std::min<std::int64_t>({eval_gap, total, std::int64_t(kStepsPerWrite)})) + 1);
  HealthMonitor health(opt_.max_loss, opt_.health_every, comms_.workers);
  // Before any checkpoint is committed: are the parameters still finite (where the host holds them)?
  const auto check_parameters = [&](std::int64_t done) {
    if (learner_.model.gpu() == nullptr || learner_.model.host_staged()) health.on_parameters(done, learner_.model.params());
  };
  RunControl control(opt_, plan_ != nullptr, comms_.workers, plan_ ? plan_->stop_file : std::string());

  const ComputeNoise noise(opt_.noise, opt_.seed, algo.worker_index(), workers);
  StepRunner runner(algo, learner_.model, learner_.optimizer, opt_.seed, &noise);
  const StepRunner::NextBatch next = [&](Batch& b) { sampler.next(data_.train, b); };
  for (std::int64_t step = clock.steps_done; step < total; ++step) {
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
      if (last && opt_.final_average != FinalAverage::None) {  // one more row: the exact final model
        averager.run();
        algo.model_replaced();
        EvalRecord f = evaluator.run();
        f.step = e.step;
        f.epoch = e.epoch;
        f.wall_s = now_s() - t_start;
        f.final_average = final_average_name(opt_.final_average);
        progress.eval(f, workers > 1);
        if (leader && sink_) sink_->on_eval(f);
        result.last_eval = f;
      }
      clock.eval_s += now_s() - t_eval;
      if (last && plan_ && plan_->final_checkpoint) check_parameters(step + 1);  // the final checkpoint follows
      stop = health.agree(step + 1, &e);
    } else {
      if (health.due(step + 1)) stop = health.agree(step + 1, nullptr);
      if (stop.empty() && pending_.size() >= kStepsPerWrite) flush_steps();
    }
    clock.steps_done = step + 1;
    clock.elapsed_s = now_s() - t_start;
    const auto stop_diverged = [&] {  // the health verdict: every worker, at the same step
      if (!last) algo.finish();  // lets parameter servers leave serve()
      flush_steps();
      if (leader && sink_) sink_->on_stop(stop);
      result.stopped = stop;
    };
    if (!stop.empty()) {
      stop_diverged();
      break;
    }
    // The run control's agreement (signals, timed checkpoints) is harness work between steps: outside
    // the metered step, so its time is in no step's record.
    const BoundaryDecision decide = last ? BoundaryDecision{} : control.at(step + 1);
    if (decide.checkpoint) {  // no checkpoint of a diverged model: the health check comes first
      check_parameters(step + 1);
      stop = health.agree(step + 1, nullptr);
      if (!stop.empty()) {
        stop_diverged();
        break;
      }
      checkpoint(clock, sampler);
      control.checkpointed();
    }
    if (decide.stop) {
      result.stopped_by = decide.signal;
      algo.finish();  // lets parameter servers leave serve(); the checkpoint holds what it applies
      flush_steps();
      break;
    }
  }
  result.steps = clock.steps_done;
  result.total_steps = total;
  result.wall_s = now_s() - t_start;
  result.images_per_s = double(clock.steps_done) * opt_.batch * workers / std::max(1e-9, result.wall_s - clock.eval_s);
  clock.elapsed_s = result.wall_s;
  end_run(result, clock, &sampler);
  return result;
}

void Trainer::write_rank(std::int64_t step, const char* role, const StateWriter& state) const {
  StateWriter out;
  if (std::string(role) == "server") save_server_state(out, step);
  out.append(state);
  plan_->store.write(step, {{"role", role}, {"algorithm", learner_.algorithm.name()}}, out.bytes());
}

void Trainer::commit(Communicator& comm, std::int64_t step, bool final, const std::string& error) {
  std::vector<double> failed(std::size_t(comm.size()), 0.0);
  failed[std::size_t(comm.rank())] = error.empty() ? 0.0 : 1.0;
  comm.allreduce_sum(failed);
  const auto first = std::find(failed.begin(), failed.end(), 1.0);
  if (first != failed.end())
    throw InputError(!error.empty() ? error
                                    : "checkpoint after step " + std::to_string(step) + " failed on rank " +
                                          std::to_string(first - failed.begin()) + " (its message names the file)");
  if (comms_.world.rank() != 0) return;
  CheckpointManifest m = plan_->manifest;
  m.step = step;
  m.final = final;
  plan_->store.commit(m);
}

void Trainer::checkpoint(const RunClock& clock, ShardSampler& sampler) {
  flush_steps();  // the log holds every step up to the boundary before the checkpoint names it
  if (comms_.world.rank() == 0 && sink_) sink_->on_checkpoint(clock.steps_done);
  const std::string error = error_of([&] {
    StateWriter out;
    save_worker_state(out, clock, {learner_.model, learner_.optimizer, sampler});
    learner_.algorithm.save_state(clock.steps_done, out);  // ps: the servers write theirs, then answer
    write_rank(clock.steps_done, "worker", out);
  });
  commit(comms_.workers, clock.steps_done, false, error);
}

void Trainer::end_run(TrainResult& result, const RunClock& clock, ShardSampler* sampler) {
  // Servers only saw the workers leave: they learn here whether the run stopped, and after how many
  // steps it ends (every worker took the same number). A run stopped by the divergence check (the
  // workers' sink already wrote `stopped`) ends without a final checkpoint and without finishing the log.
  const bool worker = sampler != nullptr;
  std::vector<double> v{result.stopped_by != 0 ? 1.0 : 0.0, double(result.stopped_by), worker ? 1.0 : 0.0,
                        worker ? double(clock.steps_done) : 0.0, result.stopped.empty() ? 0.0 : 1.0};
  comms_.world.allreduce_sum(v);
  if (v[4] > 0) {
    if (result.stopped.empty()) result.stopped = "the workers stopped (divergence)";
    return;
  }
  if (v[0] > 0) {
    result.stopped_by = int(v[1] / v[0]);
    return;
  }
  if (plan_ && plan_->final_checkpoint) {
    const auto steps = std::int64_t(v[3] / v[2]);
    const std::string error = error_of([&] {
      StateWriter out;
      if (worker) save_worker_state(out, clock, {learner_.model, learner_.optimizer, *sampler});
      learner_.algorithm.save_state(steps, out);  // after finish() / serve(): nothing in flight
      write_rank(steps, worker ? "worker" : "server", out);
    });
    commit(comms_.world, steps, true, error);
  }
  if (comms_.world.rank() == 0 && sink_) sink_->on_finish(result.wall_s);
}

}  // namespace gg
