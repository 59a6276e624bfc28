#pragma once
// The "optimizer" config block: SGD options and the learning-rate schedule, validated together.
#include "core/config/json_reader.hpp"
#include "core/optim/lr_schedule.hpp"
#include "core/optim/sgd.hpp"

namespace gg {

struct OptimizerConfig {
  SgdOptions sgd;
  LrSchedule lr;
};

// Keys: lr, momentum, nesterov, weight_decay, warmup_epochs, scale_lr_reference_batch, schedule{...}.
OptimizerConfig read_optimizer_config(JsonReader& cfg, double total_epochs);

}  // namespace gg
