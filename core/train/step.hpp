#pragma once
// The one owner of the training-step protocol. The trainer and every test that drives an algorithm call
// StepRunner::run, so the sequence an algorithm sees is written down exactly once:
//
//   algorithm.begin_step(t)
//   batch: next(batch) then algorithm.shuffle(batch); for an algorithm with shuffle_lookahead() the
//          batch is sampled one step ahead (Algorithm::shuffle_lookahead): at t = 0 the pipeline is
//          primed with b_0, at step t it is fed b_{t+1} (an empty batch at the last step) and the
//          neighbour's b_t comes back to be trained
//   model.forward(batch.x)                      algorithm.poll() between layers
//   loss = softmax cross-entropy(logits, labels)  returned as is: the trainer's health check
//                                               (health.hpp) decides, in agreement with every worker
//   model.backward(dloss)                       algorithm.on_bucket_ready(bucket) as each bucket is final,
//                                               algorithm.poll() between layers
//   algorithm.finish_step({model, optimizer, lr, t})   completes communication, applies the update
//
// Per step it allocates nothing once the batch and logits buffers have reached their size. A GPU model
// (host-staged, core/model/model.hpp) takes the host batch, and the loss runs on its GPU.
#include <cstdint>
#include <functional>

#include "algorithms/algorithm.hpp"
#include "core/data/batch.hpp"
#include "core/model/model.hpp"
#include "core/optim/sgd.hpp"
#include "core/sim/compute_noise.hpp"
#include "core/tensor/tensor.hpp"

namespace gg {

class StepRunner {
 public:
  using NextBatch = std::function<void(Batch&)>;  // fills the batch with this worker's next sample draw
  // seed: the run's seed; each step's dropout/augmentation stream is seed_of(seed, step, worker).
  // noise (optional, must outlive the runner): scales injected compute per step (compute_noise.hpp).
  StepRunner(Algorithm& algorithm, Model& model, Sgd& optimizer, std::uint64_t seed,
             const ComputeNoise* noise = nullptr);

  // Training step `step` of `total` (total decides when the lookahead pipeline is fed an empty batch).
  // Returns the loss of the batch trained.
  float run(std::int64_t step, std::int64_t total, double lr, const NextBatch& next);
  const Batch& batch() const { return batch_; }  // the batch trained by the last run()

 private:
  void take_batch(std::int64_t step, std::int64_t total, const NextBatch& next);

  Algorithm& algo_;
  Model& model_;
  Sgd& optimizer_;
  std::uint64_t seed_;
  const ComputeNoise* noise_;
  Batch batch_;
  Tensor dlogits_;
  PollHook poll_;
  BucketHook on_bucket_;
};

}  // namespace gg
