#pragma once
// The training loop, readable top to bottom in Trainer::run():
//   each step: StepRunner::run (step.hpp: sample + shuffle, forward, loss, backward with buckets
//              announced to the algorithm, finish_step), then the step's record
//   every eval: replica / averaged-model accuracy and consensus distance
//   every eval and every train.health_every steps: the workers agree on divergence (health.hpp)
#include <cstdint>
#include <memory>
#include <string>

#include "algorithms/algorithm.hpp"
#include "core/comm/comm_meter.hpp"
#include "core/config/run_config.hpp"
#include "core/data/dataset.hpp"
#include "core/data/sampler.hpp"
#include "core/optim/lr_schedule.hpp"
#include "core/train/records.hpp"

namespace gg {

struct TrainResult {
  EvalRecord last_eval;     // valid on worker ranks
  double wall_s = 0;
  double images_per_s = 0;  // global throughput over the whole run
  std::int64_t steps = 0;
  std::string stopped;      // why training stopped early (divergence, health.hpp); empty if it ran to the end
};

// Who talks: world spans all ranks; workers spans the training ranks (== world without servers).
// meter: the metering communicator's meter (core/comm/metered_communicator.hpp) that the algorithm's
// communicator reports to; the trainer reads one CommStepTotals per step from it.
struct TrainComms {
  Communicator& world;
  Communicator& workers;
  CommMeter& meter;
};

// What is trained on. partition: how the sampler splits train among workers; with Partition::Fixed,
// train need only store this worker's partition (ShardSampler::fixed_partition), and test, on any
// partition, only what Evaluator::samples_used names.
struct TrainData {
  const Dataset& train;
  const Dataset& test;
  Partition partition;
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
  // sink may be null; it is only called on rank 0 of world, which must be a worker.
  Trainer(const TrainOptions& opt, TrainComms comms, TrainData data, Learner learner, RunSink* sink);
  TrainResult run();

 private:
  void flush_steps();
  // Steps gathered and written at most this far apart, whatever the evaluation interval: memory for
  // step records stays bounded, however many steps a run has.
  static constexpr std::size_t kStepsPerWrite = 4096;
  TrainOptions opt_;
  TrainComms comms_;
  TrainData data_;
  Learner learner_;
  RunSink* sink_;
  std::vector<StepRecord> pending_;   // this worker's steps since the last flush
  std::vector<StepRecord> gathered_;  // rank 0: steps x workers
};

}  // namespace gg
