// gossipgrad: GossipGraD (Daily et al., 2018). Pairwise averaging with one partner per step on a
// hypercube or dissemination schedule, partners rotated after every full cycle, optionally with the
// asynchronous sample shuffle. Semantics of every option: pair_exchange.hpp, schedule.hpp and
// sample_shuffle.hpp. Defaults follow the original MaTEx code (hypercube, shift rotation, parameters with
// momentum, async) except two: the sample shuffle follows the gossip partner (the paper; MaTEx's fixed
// ring is shuffle = "ring"), and the async exchange is applied as a correction w += (w'_{t-1} - w_sent)/2,
// an extension that keeps the sum over ranks; MaTEx's own rule, the stale average w = (w_t + w'_{t-1})/2,
// is async_rule = "average". (Gradient exchange never mixes the
// parameters themselves, so replicas drift apart: on lenet/Fashion-MNIST, 4 ranks, 300 steps, consensus
// distance 0.13 and -3.5 points top-1 against 6e-4..1e-3 and -0.5..0 points with parameter exchange.)
#include "algorithms/pair_exchange.hpp"

namespace gg {

AlgorithmSpec gossipgrad_spec() {
  std::vector<OptionSpec> options = pair_exchange_option_specs();
  options.push_back({.name = "rotation", .default_value = "shift", .choices = {"none", "shift", "permutation"},
                     .doc = "partner rotation after each cycle: shift (original code), permutation (extension), "
                            "none"});
  options.push_back({.name = "shuffle", .default_value = "partner", .choices = {"none", "partner", "ring"},
                     .doc = "asynchronous sample shuffle: partner, along the gossip partner (paper); ring, a "
                            "fixed ring, send to rank-1 and receive from rank+1 (original code's route; its "
                            "storage migration is not modelled: a received batch is trained once, not kept); none"});
  return {
      .name = "gossipgrad",
      .summary = "GossipGraD: one partner per step, rotated every cycle, asynchronous exchange and sample shuffle",
      .provenance = "paper",
      .reference = "Daily et al. 2018, GossipGraD (arXiv 1803.05880), Sec. 4",
      .options = std::move(options),
      .check = check_pair_exchange,
      .make = [](const AlgorithmOptions& o, const AlgorithmEnv& env) -> std::unique_ptr<Algorithm> {
        PairExchangeOptions opt = pair_exchange_options(o, env.seed);
        opt.schedule.rotation = rotation_from(o.get_string("rotation"));
        opt.shuffle = shuffle_route_from(o.get_string("shuffle"));
        return std::make_unique<PairExchange>(opt, env, "algorithm");
      },
      .guarantees = pair_exchange_guarantees,
  };
}

}  // namespace gg
