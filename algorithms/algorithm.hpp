#pragma once
// The algorithm interface: how gradients or parameters move between ranks. Construct once with the
// communicator, the model and the options (partners, buffers and requests are set up there); the
// per-step path allocates nothing. One file per algorithm plus one line in registry.cpp.
//
// The trainer calls, each step t:
//   begin_step(t)                     before forward
//   shuffle(batch)                    may swap samples with other ranks (gossipgrad's shuffle)
//   poll()                            between layers, forward and backward: drive MPI progress
//   on_bucket_ready(bucket)           during backward, as each gradient bucket becomes final
//   finish_step(state)                complete communication and apply the update (it calls the
//                                     optimizer itself, because some variants average after it)
// and once at the end finish(). Ranks for which trains() is false (parameter servers) call serve()
// instead of running the loop; serve() returns when every worker has called finish().
// Checkpoints: save_state / load_state at step boundaries (below; core/train/checkpoint.hpp).
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/comm/communicator.hpp"
#include "core/data/batch.hpp"
#include "core/model/model.hpp"
#include "core/optim/sgd.hpp"
#include "core/util/state_io.hpp"

namespace gg {

struct StepStats {
  double comm_s = 0;        // time inside communication calls (posting, testing, waiting, copying)
  double wait_s = 0;        // of which: blocked waiting for a message or collective to complete
  std::uint64_t bytes_sent = 0;
  int partner = -1;         // gossip partner this step (-1 if none)
  // Steps between the parameters this step's gradient was computed on and the parameters it updates
  // (0: synchronous; 1: applied one step late, or mixed with a partner's one-step-old model).
  int staleness = 0;
};

struct TrainState {
  Model& model;
  Sgd& optimizer;
  double lr;
  std::int64_t step;
};

class Algorithm {
 public:
  virtual ~Algorithm() = default;
  virtual std::string name() const = 0;
  virtual bool trains() const { return true; }
  virtual void serve() {}
  // Number of ranks that train (p minus parameter servers); the data is sharded over these.
  virtual int num_workers() const = 0;
  virtual int worker_index() const = 0;

  virtual void begin_step(std::int64_t step) {}
  virtual void shuffle(Batch& batch) {}
  // Algorithms whose shuffle trains a batch one step after it was sampled return true. The trainer
  // then samples one step ahead: at step 0 it first primes the pipeline with b_0 (result discarded),
  // and at step t passes b_{t+1} (an empty batch at the last step) and trains what comes back, the
  // neighbour's b_t. Every sampled batch is then trained exactly once, by exactly one rank.
  virtual bool shuffle_lookahead() const { return false; }
  virtual void poll() {}
  virtual void on_bucket_ready(const Bucket& bucket) {}
  virtual void finish_step(TrainState& state) = 0;
  virtual void finish() {}
  // After finish(), the trainer replaced the model's parameters (and layer state) by the mean over the
  // workers (train.final_average, core/train/final_average.hpp). An algorithm that keeps its own copy of
  // the model re-derives it from the new parameters so its state stays consistent (a final checkpoint
  // follows); no step follows. Default: nothing (the model's parameters are the algorithm's model).
  virtual void model_replaced() {}

  // Statistics of the last finished step (reset by begin_step).
  virtual const StepStats& stats() const = 0;

  // Checkpoint and resume. Every rank calls save_state at the same step boundary: after finish_step
  // of step steps_done - 1 and before begin_step(steps_done) (or after finish(), at the end of a run).
  // It completes the TRANSPORT of every message in flight -- waits for it, which cannot deadlock, as
  // every rank does so at the same boundary and every send in flight has its receive posted -- but does
  // not APPLY it, and writes everything later steps read that the trainer does not save itself (the
  // trainer saves the model's parameters and state, the optimizer's momentum and the sampler):
  // received-but-unapplied buffers, snapshots of what was sent, flags, push-sum weights, counters.
  // load_state is called once on a freshly constructed instance, with the same options on the same
  // ranks, before its first begin_step (on a server: before serve()); it restores that state so that
  // the run continues exactly as if it had never stopped. Nothing is applied early, so checkpointing
  // does not change a run's arithmetic. A reader fed another algorithm's state throws InputError.
  virtual void save_state(std::int64_t steps_done, StateWriter& out) = 0;
  virtual void load_state(StateReader& in) = 0;
  // Ranks that serve (trains() false) are checkpointed from inside serve(), when the workers' own
  // save_state asks them to: serve() then calls this hook with the server's state (the hook writes it
  // and throws on failure; serve() reports a failure back to the workers, whose save_state throws).
  // Installed by the trainer before serve(); without a hook a server rejects checkpoint requests.
  using CheckpointHook = std::function<void(std::int64_t steps_done, const StateWriter& state)>;
  virtual void set_checkpoint_hook(CheckpointHook hook) {}
};

}  // namespace gg
