// gossip: the no-rotation baseline. Every step each rank averages 0.5/0.5 with its partner in a fixed
// hypercube schedule (dimension k = step mod log2 p, the same virtual ranks forever). Options:
// "exchange" (gradients|parameters) and "timing" (sync|async), with the same defaults as gossipgrad
// (parameters, async; see pair_exchange.hpp), so the two differ only in rotation and shuffle.
#include "algorithms/pair_exchange.hpp"

namespace gg {

std::unique_ptr<Algorithm> make_gossip(JsonReader& cfg, const AlgorithmEnv& env) {
  PairExchangeOptions opt;
  opt.name = "gossip";
  opt.schedule = {Topology::Hypercube, Rotation::None, env.seed};
  read_exchange_options(cfg, opt);
  cfg.finish();
  return std::make_unique<PairExchange>(opt, env, cfg.path());
}

}  // namespace gg
