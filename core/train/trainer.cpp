#include "core/train/trainer.hpp"

#include <algorithm>
#include <exception>
#include <string>

#include "core/data/sampler.hpp"
#include "core/train/evaluator.hpp"
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

TrainResult Trainer::run() { return learner_.algorithm.trains() ? train() : serve(); }

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
                       data_.partition);
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
  pending_.reserve(std::size_t(std::min<std::int64_t>(evals > 0 ? per_epoch / evals + 1 : total, total)) + 1);
  RunControl control(opt_, plan_ != nullptr, comms_.workers);

  StepRunner runner(algo, learner_.model, learner_.optimizer, opt_.seed);
  const StepRunner::NextBatch next = [&](Batch& b) { sampler.next(data_.train, b); };
  for (std::int64_t step = clock.steps_done; step < total; ++step) {
    const double t0 = now_s();
    const double epoch = double(step) / double(per_epoch);
    const float loss = runner.run(step, total, learner_.lr.at(epoch), next);

    const StepStats& st = algo.stats();
    const double dt = now_s() - t0;
    pending_.push_back({step, loss, float(std::max(0.0, dt - st.comm_s)), float(st.comm_s), float(st.wait_s),
                        st.bytes_sent, st.partner, 0});
    const bool last = step + 1 == total;
    const BoundaryDecision decide = last ? BoundaryDecision{} : control.at(step + 1);
    pending_.back().comm_s += float(decide.agreement_s);  // a collective: all of it is waiting
    pending_.back().wait_s += float(decide.agreement_s);
    progress.step(step, loss, now_s() - t_start, opt_.log_every);

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
      clock.eval_s += now_s() - t_eval;
    }
    clock.steps_done = step + 1;
    clock.elapsed_s = now_s() - t_start;
    if (decide.checkpoint) {
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
  // steps it ends (every worker took the same number).
  const bool worker = sampler != nullptr;
  std::vector<double> v{result.stopped_by != 0 ? 1.0 : 0.0, double(result.stopped_by), worker ? 1.0 : 0.0,
                        worker ? double(clock.steps_done) : 0.0};
  comms_.world.allreduce_sum(v);
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
