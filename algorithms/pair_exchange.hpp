#pragma once
// Pairwise 0.5/0.5 averaging with one partner per step: the engine behind "gossip" (hypercube,
// no rotation) and "gossipgrad" (any topology and rotation, optional sample shuffle). Partners come
// from Schedule (schedule.hpp): each step t a rank sends to send_to(t) and receives from recv_from(t)
// (the same rank for hypercube); the sample shuffle (gossipgrad) sends its batch along those partners or
// along a fixed ring (sample_shuffle.hpp, ShuffleRoute). Notation below: x = own value, x' = value received from recv_from.
//
// Gradient exchange never averages the parameters themselves: replicas drift apart over training
// (consensus distance ~0.1 on lenet after a few hundred steps). Parameter exchange contracts them.
//
// exchange=gradients, timing=sync: each gradient bucket is posted as soon as backward announces it
//   (straight from the gradient buffer); finish_step(t) waits, sets g <- (g + g'_t)/2, then steps the
//   optimizer (momentum stays local).
// exchange=gradients, timing=async: the buckets of step t are copied and posted the same way, but
//   finish_step(t) applies the exchange of step t-1, which progressed (poll() -> MPI_Test) during the
//   forward/backward of step t:   g <- (g_t + g'_{t-1}) / 2,   then the optimizer step.
//   Own gradient fresh, partner's one step stale; at t = 0 g_0 is used alone. The exchange posted at
//   the last step is completed by finish() and dropped. Two slots (double buffers), by step parity.
// exchange=parameters, timing=sync: finish_step(t) steps the optimizer, then exchanges parameters
//   AND momentum and sets w <- (w + w'_t)/2, v <- (v + v'_t)/2 (the original MaTEx code).
// exchange=parameters, timing=async: finish_step(t) steps the optimizer (w_t, v_t below), then applies
//   the exchange posted at step t-1 (w'_{t-1}: what the partner sent at the end of its step t-1, before
//   its step-t update), then posts the current w, v. Option async_rule chooses how:
//   correction (an extension; the default):  w <- w_t + (w'_{t-1} - w_sent)/2   (same for v), where
//     w_sent is what this rank sent at t-1. With lr = 0 this is exactly sync mixing one step late;
//     with training, each rank keeps its own latest step and every correction pair cancels, so the sum
//     over ranks is preserved (Mass::Exact).
//   average (the original code, MaTEx Caffe's mpi_gossip_params_gpu*.cpp: data <- (data + received)/2
//     before the next forward, same for the solver history):  w <- (w_t + w'_{t-1})/2  (same for v).
//     The partner's copy lacks its step-t update, so half of every step's update is undone in the sum
//     over ranks: sum(w)_{t+1} = (sum(w)_t + sum(step(w_t)))/2; no mass law (Mass::None), but it mixes.
//   finish() completes and applies the last exchange (by the same rule), so final replicas are as
//   mixed as in sync mode.
// Checkpoints (save_state): an exchange in flight at the boundary (async: the one posted at the last
//   step) is completed and saved unapplied -- what arrived and what was sent -- with the shuffle's
//   batch in flight (SampleShuffle::save_state); load_state puts them back, so the next finish_step
//   applies them exactly as it would have.
#include <array>
#include <memory>
#include <optional>
#include <vector>

#include "algorithms/spec.hpp"
#include "algorithms/sample_shuffle.hpp"
#include "algorithms/schedule.hpp"

namespace gg {

enum class Exchange { Gradients, Parameters };
enum class Timing { Sync, Async };
enum class AsyncRule { Correction, Average };  // exchange=parameters, timing=async only

struct PairExchangeOptions {
  std::string name = "gossipgrad";  // what name() reports
  ScheduleSpec schedule;
  Exchange exchange = Exchange::Parameters;
  Timing timing = Timing::Async;
  AsyncRule async_rule = AsyncRule::Correction;
  ShuffleRoute shuffle = ShuffleRoute::None;  // sample_shuffle.hpp
};

// The options gossip and gossipgrad share: topology, exchange, timing, async_rule (specs and their reading).
std::vector<OptionSpec> pair_exchange_option_specs();
// check for AlgorithmSpec: the topology must serve p ranks; async_rule "average" needs exchange
// "parameters" and timing "async" (the only combination it describes).
void check_pair_exchange(const AlgorithmOptions& opt, int p, const std::string& path);
// What pairwise averaging keeps: parameter exchange mixes and preserves mass exactly (sync averaging,
// or the async correction) and, for p a power of two, reaches the exact mean in one cycle (one step
// later when async; MaTEx's stale average too, since with lr = 0 it equals the correction, but it keeps
// no mass law while training); gradient exchange preserves mass exactly when sync, half-stale when async.
Guarantees pair_exchange_guarantees(const AlgorithmOptions& opt, int p);
// name, topology, exchange, timing and async_rule from opt (rotation and shuffle are the caller's).
PairExchangeOptions pair_exchange_options(const AlgorithmOptions& opt, std::uint64_t seed);

class PairExchange final : public Algorithm {
 public:
  // Throws InputError if the topology cannot serve comm.size() ranks.
  PairExchange(PairExchangeOptions opt, const AlgorithmEnv& env, const std::string& config_path);

  std::string name() const override { return opt_.name; }
  int num_workers() const override { return comm_.size(); }
  int worker_index() const override { return comm_.rank(); }
  const StepStats& stats() const override { return stats_; }

  void begin_step(std::int64_t step) override;
  void shuffle(Batch& batch) override;
  bool shuffle_lookahead() const override { return shuffle_.has_value(); }
  void poll() override;
  void on_bucket_ready(const Bucket& bucket) override;
  void finish_step(TrainState& state) override;
  void finish() override;
  void save_state(std::int64_t steps_done, StateWriter& out) override;
  void load_state(StateReader& in) override;

 private:
  // One step's exchange: per bucket and exchanged array, one isend and one irecv.
  struct Slot {
    Partners partners;
    bool active = false;            // posted, not yet applied
    std::vector<float> send, recv;  // [arrays][n]; send only used when timing is async
    std::vector<Request> reqs;      // [bucket][array][send, recv]
    std::vector<char> posted;       // [bucket]
  };
  void setup();
  int arrays() const { return opt_.exchange == Exchange::Parameters ? 2 : 1; }
  std::span<float> array(int a);  // 0: grads or params, 1: momentum
  void post(Slot& s, std::size_t b, int parity);
  void post_all(Slot& s, int parity);
  void wait(Slot& s);
  void average_into(Slot& s);     // x <- (x + x')/2
  void correct_toward(Slot& s);   // x <- x + (x' - x_sent)/2
  void apply_stale(Slot& s);      // async parameters: by opt_.async_rule

  PairExchangeOptions opt_;
  Communicator& comm_;
  Model& model_;
  Sgd& optimizer_;
  Schedule schedule_;
  std::optional<SampleShuffle> shuffle_;
  std::vector<Bucket> buckets_;
  std::array<Slot, 2> slots_;  // [0] only, except async gradients: [step parity]
  // Tags [exchange_tag_, +4): array a, parity q on exchange_tag_ + 2a + q, whatever the bucket count.
  // A slot's buckets share their tag: every rank posts them in the same order (the backward pass
  // announces them in a fixed order, then post_all in index order), and messages between two ranks
  // with one tag are non-overtaking, so the k-th bucket sent meets the k-th bucket received.
  int exchange_tag_;
  std::int64_t step_ = 0;
  Partners partners_;          // this step's
  StepStats stats_;
};

}  // namespace gg
