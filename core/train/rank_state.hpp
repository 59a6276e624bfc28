#pragma once
// What the trainer itself saves of one rank at a checkpoint, before the algorithm's own records
// (Algorithm::save_state) in the same stream:
//   worker:  trainer.steps_done, trainer.elapsed_s, trainer.eval_s   where the run is and its clock
//            sampler.epoch, sampler.step_in_epoch                     the next draw (one step ahead
//                                                                     with a shuffle lookahead)
//            model.params, model.state.K (batch norm statistics, ...), optimizer.momentum
//   server:  trainer.steps_done
// There is no random-number state to save: every stream in the engine is a pure function of (seed,
// step, rank, ...) -- dropout masks, epoch permutations, partner rotations, AD-PSGD's choices -- and the
// learning rate a pure function of the step (core/optim/lr_schedule.hpp), so the step restores them all.
#include <cstdint>

#include "core/data/sampler.hpp"
#include "core/model/model.hpp"
#include "core/optim/sgd.hpp"
#include "core/util/state_io.hpp"

namespace gg {

struct RunClock {
  std::int64_t steps_done = 0;
  double elapsed_s = 0;  // training time before the boundary (the communicator's clock)
  double eval_s = 0;     // of which evaluating (left out of the throughput)
};

struct WorkerParts {
  Model& model;
  Sgd& optimizer;
  ShardSampler& sampler;
};

void save_worker_state(StateWriter& out, const RunClock& clock, WorkerParts parts);
// Restores parts from `in` (InputError naming the record on any mismatch) and returns the clock.
RunClock load_worker_state(StateReader& in, WorkerParts parts);

void save_server_state(StateWriter& out, std::int64_t steps_done);
std::int64_t load_server_state(StateReader& in);

}  // namespace gg
