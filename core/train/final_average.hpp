#pragma once
// train.final_average: one exact final model. After the last step (and Algorithm::finish()), every
// worker's replica is replaced by the mean of all workers' replicas, so that the run ends with one model,
// bitwise identical on every worker -- the model a user would deploy, where gossip leaves p slightly
// different replicas. Only the workers take part (TrainComms::workers): parameter servers train nothing.
//
//   allreduce  one allreduce_sum of the state over the workers, times 1/p (the same float on every
//              rank), written back into every replica. Replicas that were already identical (allreduce
//              SGD) come back as (x + ... + x)/p: unchanged up to rounding (a few ulps).
//   hypercube  log2 p pairwise exchange steps: in step k worker v averages 0.5/0.5 with v XOR 2^k (what
//              gossip does with lr = 0). After step k the 2^(k+1) workers of each sub-cube hold bitwise
//              the same values (a + b == b + a in floating point), so the result is exact and identical
//              on every worker (identical replicas stay bitwise unchanged); only for p a power of two
//              (check_final_average refuses other p).
//
// What is averaged: the model's parameters and every layer's persistent non-parameter state
// (Model::persistent_state(): batch-norm running mean and variance), i.e. everything evaluation reads.
// Not averaged: the optimizer's momentum and the algorithms' own buffers (no step follows). An algorithm
// that keeps its own copy of the model re-derives it through Algorithm::model_replaced() (SGP: its
// numerators x_i = w_i z_i from the averaged z_i), so its state -- and the final checkpoint, written
// after the average -- stay consistent with the averaged replica.
#include <vector>

#include "core/comm/communicator.hpp"
#include "core/config/run_config.hpp"
#include "core/model/model.hpp"

namespace gg {

// Throws InputError naming 'train.final_average' if `how` cannot average `workers` replicas exactly.
void check_final_average(FinalAverage how, int workers);

class FinalAverager {
 public:
  // Every worker constructs it in the same order (hypercube reserves one tag on workers).
  FinalAverager(FinalAverage how, Communicator& workers, Model& model);
  // Collective over the workers: every replica <- the mean of all replicas (nothing for None).
  void run();

 private:
  void hypercube();

  FinalAverage how_;
  Communicator& comm_;
  Model& model_;
  int tag_ = -1;
  std::vector<float> state_, recv_;  // [num_params + persistent state]: the replica, the partner's
};

}  // namespace gg
