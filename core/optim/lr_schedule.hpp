#pragma once
// Learning rate as a pure function of training progress (in epochs, fractional):
//   constant | step (x gamma every step_epochs) | multistep (x gamma at each milestone) |
//   cosine (to min_lr at total_epochs), all after an optional linear warmup from lr/warmup_factor.
// The linear scaling rule (Goyal et al.) multiplies base lr by global_batch / reference_batch.
#include <string>
#include <vector>

#include "core/config/json_reader.hpp"

namespace gg {

struct LrSchedule {
  std::string kind = "constant";  // constant | step | multistep | cosine
  double base_lr = 0.01;
  double gamma = 0.1;
  double step_epochs = 1;
  std::vector<double> milestones;  // epochs
  double total_epochs = 1;
  double min_lr = 0;
  double warmup_epochs = 0;
  int reference_batch = 0;  // > 0: linear scaling rule on

  double at(double epoch) const;
  // Linear scaling rule: base_lr *= global_batch / reference_batch (no-op when it is off).
  void apply_linear_scaling(int global_batch);
};

// Reads optimizer.lr / optimizer.schedule / optimizer.warmup_epochs / optimizer.scale_lr from cfg.
// total_epochs comes from the train block. Scaling is applied later, once the worker count is known.
LrSchedule read_lr_schedule(JsonReader& cfg, double total_epochs);

}  // namespace gg
