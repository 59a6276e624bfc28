// gossipgrad: GossipGraD (Daily et al., 2018). Pairwise averaging with one partner per step on a
// hypercube or dissemination schedule, partners rotated after every full cycle, optionally with the
// asynchronous sample shuffle. Semantics of every option: pair_exchange.hpp, schedule.hpp and
// sample_shuffle.hpp. Defaults follow the original MaTEx code: hypercube, shift rotation, parameters
// (with momentum), async, shuffle on. (Gradient exchange never mixes the parameters themselves, so
// replicas drift apart: on lenet/Fashion-MNIST, 4 ranks, 300 steps, consensus distance 0.13 and -3.5
// points top-1 against 6e-4..1e-3 and -0.5..0 points with parameter exchange.)
#include "algorithms/pair_exchange.hpp"

namespace gg {

std::unique_ptr<Algorithm> make_gossipgrad(JsonReader& cfg, const AlgorithmEnv& env) {
  PairExchangeOptions opt;
  opt.name = "gossipgrad";
  opt.schedule.topology = topology_from(cfg.get_string("topology", "hypercube", {"hypercube", "dissemination"}));
  opt.schedule.rotation = rotation_from(cfg.get_string("rotation", "shift", {"none", "shift", "permutation"}));
  opt.schedule.seed = env.seed;
  read_exchange_options(cfg, opt);
  opt.shuffle = cfg.get_bool("shuffle", true);
  cfg.finish();
  return std::make_unique<PairExchange>(opt, env, cfg.path());
}

}  // namespace gg
