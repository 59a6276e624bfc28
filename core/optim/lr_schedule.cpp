#include "core/optim/lr_schedule.hpp"

#include <algorithm>
#include <cmath>

#include "core/util/error.hpp"

namespace gg {

double LrSchedule::at(double epoch) const {
  double lr = base_lr;
  if (kind == "step") {
    lr *= std::pow(gamma, std::floor(epoch / step_epochs));
  } else if (kind == "multistep") {
    for (double m : milestones)
      if (epoch >= m) lr *= gamma;
  } else if (kind == "cosine") {
    const double t = std::clamp((epoch - warmup_epochs) / std::max(1e-9, total_epochs - warmup_epochs), 0.0, 1.0);
    lr = min_lr + 0.5 * (base_lr - min_lr) * (1.0 + std::cos(3.14159265358979 * t));
  }
  if (warmup_epochs > 0 && epoch < warmup_epochs) lr *= (epoch + 1e-3) / warmup_epochs;
  return lr;
}

void LrSchedule::apply_linear_scaling(int global_batch) {
  if (reference_batch > 0) base_lr *= double(global_batch) / double(reference_batch);
  reference_batch = 0;  // applied once
}

LrSchedule read_lr_schedule(JsonReader& cfg, double total_epochs) {
  LrSchedule s;
  s.base_lr = cfg.get_double("lr", 0.01, 1e-9, 100.0);
  s.total_epochs = total_epochs;
  s.warmup_epochs = cfg.get_double("warmup_epochs", 0.0, 0.0, 1e6);
  s.reference_batch = int(cfg.get_int("scale_lr_reference_batch", 0, 0, 1 << 30));
  auto sch = cfg.object("schedule");
  s.kind = sch.get_string("kind", "constant", {"constant", "step", "multistep", "cosine"});
  if (s.kind == "step") {
    s.gamma = sch.get_double("gamma", 0.1, 0.0, 1.0);
    s.step_epochs = sch.get_double("step_epochs", std::nullopt, 1e-6);
  } else if (s.kind == "multistep") {
    s.gamma = sch.get_double("gamma", 0.1, 0.0, 1.0);
    for (auto m : sch.get_int_list("milestones", {}, 0)) s.milestones.push_back(double(m));
    if (s.milestones.empty()) throw InputError("config: '" + sch.path_of("milestones") + "' is required for multistep");
  } else if (s.kind == "cosine") {
    s.min_lr = sch.get_double("min_lr", 0.0, 0.0);
  }
  sch.finish();
  return s;
}

}  // namespace gg
