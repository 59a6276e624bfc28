// gossip: the no-rotation baseline. Every step each rank averages 0.5/0.5 with its partner in a fixed
// schedule (hypercube by default: dimension k = step mod log2 p, the same virtual ranks forever).
// Options "topology", "exchange" and "timing" have gossipgrad's defaults (pair_exchange.hpp), so the
// two differ only in rotation and shuffle.
#include "algorithms/pair_exchange.hpp"

namespace gg {

AlgorithmSpec gossip_spec() {
  return {
      .name = "gossip",
      .summary = "pairwise gossip averaging without partner rotation or sample shuffle",
      .provenance = "baseline",
      .reference = "Daily et al. 2018 (arXiv 1803.05880), the no-rotation baseline of Sec. 5",
      .options = pair_exchange_option_specs(),
      .check = check_pair_exchange,
      .make = [](const AlgorithmOptions& o, const AlgorithmEnv& env) -> std::unique_ptr<Algorithm> {
        PairExchangeOptions opt = pair_exchange_options(o, env.seed);
        opt.schedule.rotation = Rotation::None;
        return std::make_unique<PairExchange>(opt, env, "algorithm");
      },
      .guarantees = pair_exchange_guarantees,
  };
}

}  // namespace gg
