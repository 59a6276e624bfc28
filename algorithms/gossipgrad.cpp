// gossipgrad: GossipGraD (Daily et al., 2018). Pairwise averaging with one partner per step on a
// hypercube or dissemination schedule, partners rotated after every full cycle, optionally with the
// asynchronous sample shuffle. Semantics of every option: pair_exchange.hpp, schedule.hpp and
// sample_shuffle.hpp. Defaults follow the paper: hypercube, shift rotation (as the original MaTEx
// code), gradients, async, shuffle on.
#include "algorithms/pair_exchange.hpp"

namespace gg {

std::unique_ptr<Algorithm> make_gossipgrad(JsonReader& cfg, const AlgorithmEnv& env) {
  PairExchangeOptions opt;
  opt.name = "gossipgrad";
  opt.schedule.topology = topology_from(cfg.get_string("topology", "hypercube", {"hypercube", "dissemination"}));
  opt.schedule.rotation = rotation_from(cfg.get_string("rotation", "shift", {"none", "shift", "permutation"}));
  opt.schedule.seed = env.seed;
  read_exchange_options(cfg, opt);
  if (!cfg.has("timing")) opt.timing = Timing::Async;
  opt.shuffle = cfg.get_bool("shuffle", true);
  cfg.finish();
  return std::make_unique<PairExchange>(opt, env, cfg.path());
}

}  // namespace gg
