#pragma once
// Divergence detection that sees every worker. The trainer hands each step's batch loss to on_step()
// (one comparison, no communication). Every `health_every` steps and at every evaluation, agree()
// (collective over the workers) gives every worker the same verdict: diverged if any worker has seen a
// batch loss that is not finite or above train.max_loss, or non-finite parameters (on_parameters,
// which the trainer calls before every checkpoint, so a diverged model is never committed), or, at an evaluation, if the consensus
// distance or a test loss is not finite (what non-finite parameters or consensus on any worker
// produce). All workers hear it at the same step, so they stop together (draining their algorithm, so
// parameter servers finish too); gg_train then prints one message and every rank exits with
// exit_code::kDiverged (core/util/exit_codes.hpp).
#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <string>

#include "core/comm/communicator.hpp"
#include "core/train/records.hpp"

namespace gg {

class HealthMonitor {
 public:
  // max_loss <= 0: only non-finite losses count. every <= 0: agree only at evaluations.
  HealthMonitor(double max_loss, int every, Communicator& workers);

  void on_step(std::int64_t step, float loss) {
    if (first_bad_ < 0 && !(std::fabs(double(loss)) <= limit_)) {
      first_bad_ = step;
      bad_loss_ = loss;
    }
  }
  // Before a checkpoint: whether this worker's parameters are all finite (a model can turn non-finite
  // in the update after a finite batch loss). Local; the next agree() tells every worker.
  void on_parameters(std::int64_t done, std::span<const float> params) {
    if (bad_params_ >= 0) return;
    for (const float v : params)
      if (!std::isfinite(v)) {
        bad_params_ = done;
        return;
      }
  }
  // True when an agreement is due after `done` steps (besides evaluations).
  bool due(std::int64_t done) const { return every_ > 0 && done % every_ == 0; }
  // Collective over the workers: "" while healthy, else the message (the same on every worker). eval:
  // the evaluation just made (the same on every worker), or null. done: steps completed.
  std::string agree(std::int64_t done, const EvalRecord* eval);

 private:
  double limit_;
  int every_;
  Communicator& workers_;
  std::int64_t first_bad_ = -1;
  float bad_loss_ = 0;
  std::int64_t bad_params_ = -1;  // steps done when on_parameters() found a non-finite value
};

}  // namespace gg
