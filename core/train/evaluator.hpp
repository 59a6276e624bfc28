#pragma once
// Test-set evaluation of a replica, of the average of all replicas, and the consensus distance.
#include <cstdint>
#include <vector>

#include "core/comm/communicator.hpp"
#include "core/data/dataset.hpp"
#include "core/model/model.hpp"
#include "core/train/records.hpp"

namespace gg {

// Loss, top-1 and top-5 of model on samples [begin, end) of data (sample ids; each must be stored);
// batch = model's max batch.
struct EvalSums {
  double loss = 0, top1 = 0, top5 = 0, count = 0;
};
EvalSums evaluate_range(Model& model, const Dataset& data, std::int64_t begin, std::int64_t end, Batch& scratch);

class Evaluator {
 public:
  // workers: a communicator over the training ranks only. Buffers sized once here.
  Evaluator(Communicator& workers, Model& model, const Dataset& test, bool eval_replicas);
  // Collective over workers. Fills everything but step/epoch/wall_s (valid on every worker).
  EvalRecord run();

  // The test samples that worker `me` of `p` evaluates out of n, ascending: all of them on worker 0
  // (its replica) or with eval_replicas (every replica), else only its slice of the averaged model's
  // evaluation. A rank needs to store no others (DataKeep::test).
  static std::vector<std::int64_t> samples_used(std::int64_t n, int me, int p, bool eval_replicas);

 private:
  Metrics to_metrics(const EvalSums& s) const;
  Communicator& comm_;
  Model& model_;
  const Dataset& test_;
  bool eval_replicas_;
  Batch scratch_;
  std::vector<float> mean_, backup_;  // [num_params]
};

}  // namespace gg
