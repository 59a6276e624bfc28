#pragma once
// The training loop, readable top to bottom in Trainer::train():
//   each step: StepRunner::run (step.hpp: sample + shuffle, forward, loss, backward with buckets
//              announced to the algorithm, finish_step), then the step's record
//   each boundary: what the workers agree on (run_control.hpp: checkpoint? stop on a signal?)
//   every eval: replica / averaged-model accuracy and consensus distance
//   after the last eval, with train.final_average: the replicas are averaged into one exact model
//              (final_average.hpp) and evaluated once more, a row marked as the final model
//   every eval and every train.health_every steps: the workers agree on divergence (health.hpp)
//   checkpoints: this rank's state (rank_state.hpp + Algorithm::save_state) to its file, committed by
//                rank 0 once every rank's write succeeded (checkpoint_store.hpp)
// The boundary agreements (divergence, run control) and checkpoints are outside the metered step: their
// time is in no step's comm/exposed columns.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "algorithms/algorithm.hpp"
#include "core/comm/comm_meter.hpp"
#include "core/config/run_config.hpp"
#include "core/data/dataset.hpp"
#include "core/data/sampler.hpp"
#include "core/optim/lr_schedule.hpp"
#include "core/train/checkpoint_plan.hpp"
#include "core/train/rank_state.hpp"
#include "core/train/records.hpp"

namespace gg {

struct TrainResult {
  EvalRecord last_eval;     // valid on worker ranks
  double wall_s = 0;
  double images_per_s = 0;  // global throughput over the whole run
  std::int64_t steps = 0;   // steps completed (fewer than planned if stopped)
  std::int64_t total_steps = 0;  // planned (workers)
  std::string stopped;      // why training stopped early (divergence, health.hpp); empty otherwise
  int stopped_by = 0;       // the signal that stopped the run at a boundary (0: none)
};

// Who talks: world spans all ranks; workers spans the training ranks (== world without servers).
// meter: the metering communicator's meter (core/comm/metered_communicator.hpp) that the algorithm's
// communicator reports to; the trainer reads one CommStepTotals per step from it.
struct TrainComms {
  Communicator& world;
  Communicator& workers;
  CommMeter& meter;
};

// What is trained on. partition: how the sampler splits train among workers; with a partition that
// owns samples (owns_samples: fixed, classes, dirichlet), train need only store this worker's samples
// (ShardSampler::fixed_partition, label_partition.hpp), and test, on any partition, only what
// Evaluator::samples_used names. owned: this worker's samples under classes and dirichlet (ascending,
// see ShardSampler's constructor); may be empty under fixed, must be under reshuffle.
struct TrainData {
  const Dataset& train;
  const Dataset& test;
  Partition partition;
  std::vector<std::int64_t> owned = {};
};

// What learns: the replica, its optimizer, the algorithm that moves its data, the learning rate.
struct Learner {
  Model& model;
  Sgd& optimizer;
  Algorithm& algorithm;
  LrSchedule lr;
};

// One step's record from its measured totals and the algorithm's statistics.
StepRecord step_record(std::int64_t step, float loss, double step_s, const CommStepTotals& c, const StepStats& st);

class Trainer {
 public:
  // sink may be null; it is only called on rank 0 of world, which must be a worker. plan may be null
  // (no checkpoints); it must outlive run().
  Trainer(const TrainOptions& opt, TrainComms comms, TrainData data, Learner learner, RunSink* sink,
          CheckpointPlan* plan = nullptr);
  // Every rank (servers included) calls it once.
  TrainResult run();

 private:
  TrainResult train();  // worker ranks
  TrainResult serve();  // parameter-server ranks
  // All ranks: the servers learn whether the workers stopped; the final checkpoint; the log's end.
  void end_run(TrainResult& result, const RunClock& clock, ShardSampler* sampler);
  // Writes this rank's file of the boundary `step` (the trainer's records, then the algorithm's).
  void write_rank(std::int64_t step, const char* role, const StateWriter& state) const;
  // Workers at an agreed boundary: flush the log, save every rank's state, commit (rank 0).
  void checkpoint(const RunClock& clock, ShardSampler& sampler);
  // After every rank's write: agree (over comm) that all succeeded, then rank 0 commits. Throws on
  // every rank of comm if one failed.
  void commit(Communicator& comm, std::int64_t step, bool final, const std::string& error);
  double now_s() const { return comms_.world.wtime(); }  // simulated time under SMPI
  void flush_steps();
  // Steps gathered and written at most this far apart, whatever the evaluation interval: memory for
  // step records stays bounded, however many steps a run has.
  static constexpr std::size_t kStepsPerWrite = 4096;
  TrainOptions opt_;
  TrainComms comms_;
  TrainData data_;
  Learner learner_;
  RunSink* sink_;
  CheckpointPlan* plan_;
  std::vector<StepRecord> pending_;   // this worker's steps since the last flush
  std::vector<StepRecord> gathered_;  // rank 0: steps x workers
};

}  // namespace gg
