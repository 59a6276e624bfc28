#include "core/train/trainer.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "core/data/sampler.hpp"
#include "core/layers/softmax_xent.hpp"
#include "core/train/evaluator.hpp"
#include "core/train/progress.hpp"
#include "core/util/error.hpp"

namespace gg {

Trainer::Trainer(const TrainOptions& opt, Communicator& comm, Communicator& workers, const Dataset& train,
                 const Dataset& test, Partition partition, Model& model, Sgd& optimizer, Algorithm& algorithm,
                 LrSchedule lr, RunSink* sink)
    : opt_(opt), comm_(comm), workers_(workers), train_(train), test_(test), partition_(partition), model_(model),
      optimizer_(optimizer), algo_(algorithm), lr_(std::move(lr)), sink_(sink) {}

void Trainer::flush_steps() {
  // Every worker has taken the same number of steps since the last flush (lockstep by construction).
  const std::size_t k = pending_.size(), bytes = k * sizeof(StepRecord);
  const int p = workers_.size();
  if (workers_.rank() == 0) gathered_.resize(k * p);
  std::vector<StepRecord> by_rank(workers_.rank() == 0 ? k * p : 0);
  workers_.gather(pending_.data(), bytes, by_rank.data(), 0);
  if (workers_.rank() == 0 && sink_) {
    for (int r = 0; r < p; ++r)  // rank-major -> step-major
      for (std::size_t s = 0; s < k; ++s) gathered_[s * p + r] = by_rank[r * k + s];
    sink_->on_steps(gathered_, p);
  }
  pending_.clear();
}

TrainResult Trainer::run() {
  // The communicator's clock: wall time under MPI, simulated time under SMPI.
  const auto now_s = [this] { return comm_.wtime(); };
  TrainResult result;
  const double t_start = now_s();
  if (!algo_.trains()) {  // a parameter server: serve until every worker is done
    algo_.serve();
    result.wall_s = now_s() - t_start;
    return result;
  }
  const int workers = algo_.num_workers();
  ShardSampler sampler(train_.samples(), workers, algo_.worker_index(), opt_.batch, opt_.seed, true, partition_);
  const std::int64_t per_epoch = sampler.steps_per_epoch();
  const std::int64_t total = opt_.max_steps > 0 ? opt_.max_steps : opt_.epochs * per_epoch;
  // Evaluations at every 1/evals_per_epoch of an epoch (rounded to whole steps) and after the last step.
  const std::int64_t evals = opt_.evals_per_epoch;
  const auto eval_due = [&](std::int64_t done) {
    return done == total || (evals > 0 && (done * evals) / per_epoch != ((done - 1) * evals) / per_epoch);
  };
  const bool leader = comm_.rank() == 0;
  Progress progress(leader, total, per_epoch, opt_.batch * workers);
  Evaluator evaluator(workers_, model_, test_, opt_.eval_replicas);
  pending_.reserve(std::size_t(std::min<std::int64_t>(evals > 0 ? per_epoch / evals + 1 : total, total)) + 1);

  Batch batch;
  Tensor dlogits;
  const PollHook poll = [this] { algo_.poll(); };
  const BucketHook on_bucket = [this](const Bucket& b) { algo_.on_bucket_ready(b); };

  double eval_s = 0;  // excluded from throughput
  for (std::int64_t step = 0; step < total; ++step) {
    const double t0 = now_s();
    algo_.begin_step(step);
    if (!algo_.shuffle_lookahead()) {
      sampler.next(train_, batch);
      algo_.shuffle(batch);
    } else {  // see Algorithm::shuffle_lookahead: sample one step ahead, train the neighbour's batch
      if (step == 0) {
        sampler.next(train_, batch);
        algo_.shuffle(batch);
      }
      if (step + 1 < total) {
        sampler.next(train_, batch);
      } else {
        batch.labels.clear();
        batch.ids.clear();
        batch.x.resize(batch.x.shape().with_batch(0));
      }
      algo_.shuffle(batch);
    }
    const RunContext ctx{Phase::Train, seed_of(opt_.seed, std::uint64_t(step), std::uint64_t(algo_.worker_index()))};
    const Tensor& logits = model_.forward(batch.x, ctx, poll);
    dlogits.resize(logits.shape());
    const float loss = softmax_xent(logits, batch.labels, &dlogits);
    if (!std::isfinite(loss))
      throw InputError("training diverged: loss is " + std::to_string(loss) + " at step " + std::to_string(step) +
                       " on worker " + std::to_string(algo_.worker_index()) + " (lower optimizer.lr)");
    model_.backward(dlogits, ctx, on_bucket, poll);
    const double epoch = double(step) / double(per_epoch);
    TrainState state{model_, optimizer_, lr_.at(epoch), step};
    algo_.finish_step(state);

    const StepStats& st = algo_.stats();
    const double dt = now_s() - t0;
    pending_.push_back({step, loss, float(std::max(0.0, dt - st.comm_s)), float(st.comm_s), float(st.wait_s),
                        st.bytes_sent, st.partner, 0});
    progress.step(step, loss, now_s() - t_start, opt_.log_every);

    const bool last = step + 1 == total;
    if (eval_due(step + 1)) {
      if (last) algo_.finish();  // drain in-flight exchanges so replicas are final
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
    }
  }
  result.steps = total;
  result.wall_s = now_s() - t_start;
  result.images_per_s = double(total) * opt_.batch * workers / std::max(1e-9, result.wall_s - eval_s);
  if (leader && sink_) sink_->on_finish(result.wall_s);
  return result;
}

}  // namespace gg
