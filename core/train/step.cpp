#include "core/train/step.hpp"

#include <cmath>
#include <string>

#include "core/layers/softmax_xent.hpp"
#include "core/util/error.hpp"
#include "core/util/rng.hpp"

namespace gg {

StepRunner::StepRunner(Algorithm& algorithm, Model& model, Sgd& optimizer, std::uint64_t seed,
                       const ComputeNoise* noise)
    : algo_(algorithm),
      model_(model),
      optimizer_(optimizer),
      seed_(seed),
      noise_(noise),
      dlogits_(Shape{0, 0, 0, 0}, model.device()),
      poll_([this] { algo_.poll(); }),
      on_bucket_([this](const Bucket& b) { algo_.on_bucket_ready(b); }) {}

void StepRunner::take_batch(std::int64_t step, std::int64_t total, const NextBatch& next) {
  if (!algo_.shuffle_lookahead()) {
    next(batch_);
    algo_.shuffle(batch_);
    return;
  }
  if (step == 0) {  // prime the pipeline with b_0 (what comes back is discarded)
    next(batch_);
    algo_.shuffle(batch_);
  }
  if (step + 1 < total) {
    next(batch_);
  } else {
    batch_.labels.clear();
    batch_.ids.clear();
    batch_.x.resize(batch_.x.shape().with_batch(0));
  }
  algo_.shuffle(batch_);
}

float StepRunner::run(std::int64_t step, std::int64_t total, double lr, const NextBatch& next) {
  algo_.begin_step(step);
  take_batch(step, total, next);
  const RunContext ctx{Phase::Train, seed_of(seed_, std::uint64_t(step), std::uint64_t(algo_.worker_index())),
                       noise_ ? noise_->factor(step) : 1.0};
  const Tensor& logits = model_.forward(batch_.x, ctx, poll_);
  dlogits_.resize(logits.shape());
  // The caller checks the loss (health.hpp). A GPU model computes it there (dlogits_ lives on its device).
  const float loss = softmax_xent(logits, batch_.labels, &dlogits_, model_.gpu());
  model_.backward(dlogits_, ctx, on_bucket_, poll_);
  TrainState state{model_, optimizer_, lr, step};
  algo_.finish_step(state);
  return loss;
}

}  // namespace gg
