// gossip_pga: Gossip SGD with Periodic Global Averaging (Chen, Yuan, Zhang, Pan, Xu, Yin, "Accelerating
// Gossip SGD with Periodic Global Averaging", ICML 2021). Gossip steps by PairExchange (pair_exchange.hpp:
// one partner per step on the hypercube or dissemination schedule -- the latter is the one-peer
// exponential graph --, no rotation, no sample shuffle; options topology, exchange, timing, async_rule as gossip's),
// and after every `period` = H steps (steps t with (t + 1) mod H == 0) an exact global average:
//
// exchange = parameters (default): a global step REPLACES the gossip of that step (the paper's
//   x_{t+1} = (1/n) sum_i (x_i - lr u_i) at global steps, W (x - lr u) otherwise):
//     optimizer step;  async only: complete and apply the exchange posted at step t - 1 (by its async_rule,
//     PairExchange::finish(), which leaves nothing in flight);  then x, v <- their means over all ranks.
//   Momentum is averaged globally too, because the gossip steps mix it as well (the original GossipGraD
//   code's parameter exchange); after a global step all replicas, momenta included, are identical.
//   No exchange is posted at a global step, so the next step starts with nothing pending.
// exchange = gradients: gossip averages the gradients every step exactly as in `gossip` (global steps
//   included, so the async pipeline keeps its one-step-stale rhythm); after the optimizer step of a
//   global step the parameters (not the momenta, which gradient exchange never mixes) are averaged.
//
// Invariants (tests/sweep): the global average preserves sums, so the mass law is PairExchange's (Exact
// for parameter exchange and for sync gradients, HalfStale for async gradients); with lr = 0 every worker
// holds the exact global mean after H steps, for every exchange and timing (async parameters included:
// the exchange in flight is applied before the average, not after it).
// The global average is a nonblocking allreduce (algorithms/iallreduce.hpp, so comm.iallreduce = "ring"
// is honoured) started and waited for at once: fully exposed. stats: PairExchange's, plus the global
// average's time (all of it waiting) and 2 (p - 1)/p of its bytes (what a ring allreduce sends per rank);
// the PairExchange::finish() of an async global step is counted in comm_s only.
#include <initializer_list>
#include <memory>
#include <vector>

#include "algorithms/algo_util.hpp"
#include "algorithms/iallreduce.hpp"
#include "algorithms/pair_exchange.hpp"
#include "core/util/error.hpp"
#include "core/comm/charged_ops.hpp"

namespace gg {

namespace {

PairExchangeOptions gossip_options(const AlgorithmOptions& o, std::uint64_t seed) {
  PairExchangeOptions opt = pair_exchange_options(o, seed);
  opt.schedule.rotation = Rotation::None;
  opt.shuffle = ShuffleRoute::None;
  return opt;
}

class GossipPga final : public Algorithm {
 public:
  GossipPga(const AlgorithmOptions& o, const AlgorithmEnv& env)
      : comm_(env.comm), model_(env.model), optimizer_(env.optimizer), period_(o.get_int("period")),
        params_(o.get_string("exchange") == "parameters"), async_(o.get_string("timing") == "async"),
        gossip_(gossip_options(o, env.seed), env, "algorithm"), global_(env.comm, env.ring_iallreduce) {
    const std::vector<std::size_t> counts(params_ ? 2 : 1, model_.num_params());  // parameters [, momentum]
    global_.plan(counts);
    reqs_.resize(counts.size());
  }

  std::string name() const override { return "gossip_pga"; }
  int num_workers() const override { return comm_.size(); }
  int worker_index() const override { return comm_.rank(); }
  const StepStats& stats() const override { return stats_; }

  void begin_step(std::int64_t step) override {
    stats_ = {};
    global_step_ = comm_.size() > 1 && (step + 1) % period_ == 0;
    gossip_.begin_step(step);
  }
  void shuffle(Batch& batch) override { gossip_.shuffle(batch); }
  void poll() override { gossip_.poll(); }
  void on_bucket_ready(const Bucket& bucket) override { gossip_.on_bucket_ready(bucket); }

  void finish_step(TrainState& st) override {
    StepStats own;
    if (!global_step_) {
      gossip_.finish_step(st);
    } else if (!params_) {
      gossip_.finish_step(st);  // gradient gossip as on every step, then the parameters' global average
      average({model_.params()}, own);
    } else {
      st.optimizer.step(model_.params(), model_.grads(), st.lr);
      if (async_) {
        TimeScope t(comm_, own.comm_s);
        gossip_.finish();  // applies the exchange posted at step t - 1; nothing stays in flight
      }
      average({model_.params(), optimizer_.momentum()}, own);
    }
    stats_ = gossip_.stats();
    stats_.comm_s += own.comm_s;
    stats_.wait_s += own.wait_s;
    stats_.bytes_sent += own.bytes_sent;
    if (global_step_ && params_) stats_.partner = -1;  // no gossip partner at this step
  }

  void finish() override { gossip_.finish(); }
  // Between steps only the gossip's exchange can be in flight (global averages are waited for at once).
  void save_state(std::int64_t steps_done, StateWriter& out) override {
    out.put_int("pga.period", period_);
    gossip_.save_state(steps_done, out);
  }
  void load_state(StateReader& in) override {
    if (in.get_int("pga.period") != period_)
      throw InputError(in.source() + ": record 'pga.period': the checkpoint was written with another period");
    gossip_.load_state(in);
  }

 private:
  // x <- (1/p) sum over ranks of x, for each array (one allreduce slot each, started together).
  void average(std::initializer_list<std::span<float>> arrays, StepStats& own) {
    const int p = comm_.size();
    {
      TimeScope t(comm_, own.comm_s);
      TimeScope w(comm_, own.wait_s);  // started and waited for at once: all of it is waiting
      std::size_t slot = 0;
      for (std::span<float> x : arrays) {
        reqs_[slot] = global_.start(slot, x);
        ++slot;
      }
      for (Request& r : reqs_) r.wait();
    }
    const float inv = 1.0f / float(p);
    for (std::span<float> x : arrays) {
      ops::scale(comm_, x, inv);
      own.bytes_sent += 2 * std::uint64_t(p - 1) * x.size() * sizeof(float) / std::uint64_t(p);
    }
  }

  Communicator& comm_;
  Model& model_;
  Sgd& optimizer_;
  std::int64_t period_;
  bool params_, async_;
  PairExchange gossip_;
  Iallreduce global_;           // slot 0: parameters, slot 1: momentum (parameter exchange only)
  std::vector<Request> reqs_;   // [slot]
  bool global_step_ = false;    // this step ends with the global average
  StepStats stats_;
};

}  // namespace

AlgorithmSpec gossip_pga_spec() {
  std::vector<OptionSpec> options = pair_exchange_option_specs();  // docs restated: "paper" there is GossipGraD
  for (OptionSpec& o : options) {
    if (o.name == "topology")
      o.doc = "gossip graph: hypercube (p a power of two) or dissemination (the one-peer exponential graph; any p)";
    if (o.name == "exchange")
      o.doc = "what gossip averages: parameters with momentum (then the global average covers momentum too) or "
              "gradients (then it covers the parameters only)";
    if (o.name == "timing")
      o.doc = "async: the gossip exchange overlaps the next step and is applied one step stale; sync: waited for in "
              "the same step (global averages are always waited for)";
  }
  options.push_back({.name = "period", .type = OptionType::Int, .default_value = 8, .min = 1, .max = 1 << 20,
                     .doc = "H: steps between exact global averages (H = 1: a global average every step)",
                     .sweep = {4}});
  return {
      .name = "gossip_pga",
      .summary = "Gossip-PGA: pairwise gossip every step, an exact global average every H steps",
      .provenance = "extension",
      .reference = "Chen, Yuan, Zhang, Pan, Xu, Yin, Accelerating Gossip SGD with Periodic Global Averaging, "
                   "ICML 2021",
      .options = std::move(options),
      .check = check_pair_exchange,
      .make = [](const AlgorithmOptions& o, const AlgorithmEnv& env) -> std::unique_ptr<Algorithm> {
        return std::make_unique<GossipPga>(o, env);
      },
      .guarantees = [](const AlgorithmOptions& o, int p) {
        Guarantees g = pair_exchange_guarantees(o, p);
        g.mixes_parameters = p > 1;  // the global average mixes, whatever the gossip exchanges
        g.exact_mean_after_steps = p > 1 ? int(o.get_int("period")) : 0;
        return g;
      },
  };
}

}  // namespace gg
