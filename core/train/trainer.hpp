#pragma once
// The training loop, readable top to bottom in Trainer::run():
//   batch = sampler.next(); algorithm.shuffle(batch)
//   model.forward(batch); loss; model.backward()   (buckets -> algorithm.on_bucket_ready)
//   algorithm.finish_step(...)                     (communication completes, update applied)
//   every eval: replica / averaged-model accuracy and consensus distance
#include <cstdint>
#include <memory>

#include "algorithms/algorithm.hpp"
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
};

class Trainer {
 public:
  // comm spans all ranks; workers spans the training ranks (== comm when there are no servers).
  // partition: how the sampler splits train among workers; with Partition::Fixed, train need only
  // store this worker's partition (ShardSampler::fixed_partition), and test, on any partition, only
  // what Evaluator::samples_used names. sink may be null; it is only called on rank 0 of comm, which
  // must be a worker.
  Trainer(const TrainOptions& opt, Communicator& comm, Communicator& workers, const Dataset& train,
          const Dataset& test, Partition partition, Model& model, Sgd& optimizer, Algorithm& algorithm,
          LrSchedule lr, RunSink* sink);
  TrainResult run();

 private:
  void flush_steps();
  TrainOptions opt_;
  Communicator& comm_;
  Communicator& workers_;
  const Dataset& train_;
  const Dataset& test_;
  Partition partition_;
  Model& model_;
  Sgd& optimizer_;
  Algorithm& algo_;
  LrSchedule lr_;
  RunSink* sink_;
  std::vector<StepRecord> pending_;   // this worker's steps since the last flush
  std::vector<StepRecord> gathered_;  // rank 0: steps x workers
};

}  // namespace gg
