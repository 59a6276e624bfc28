#include "core/optim/optimizer_config.hpp"

namespace gg {

OptimizerConfig read_optimizer_config(JsonReader& cfg, double total_epochs) {
  OptimizerConfig oc;
  oc.sgd.momentum = cfg.get_double("momentum", 0.9, 0.0, 0.999999);
  oc.sgd.nesterov = cfg.get_bool("nesterov", false);
  oc.sgd.weight_decay = cfg.get_double("weight_decay", 5e-4, 0.0, 1.0);
  oc.lr = read_lr_schedule(cfg, total_epochs);
  cfg.finish();
  return oc;
}

}  // namespace gg
