#pragma once
// What the workers decide together at a step boundary: checkpoint now? stop now?
//
//   train.checkpoint_every   (steps)    a checkpoint at every boundary that is a multiple: every rank
//                                       knows it without communicating
//   train.checkpoint_minutes (minutes)  a checkpoint at the first agreement boundary after that much wall
//                                       time (worker 0's clock decides) since the start or the last one
//   SIGTERM / SIGINT on any rank        a checkpoint (when the run has a log), then stop
//   the file <output.path>.stop         the same (worker 0 looks for it at each agreement): how a launcher
//                                       stops a run when it cannot deliver a signal to every rank in time
//                                       (ggbench/launch.py creates it at a study's --timeout)
//
// Agreement: every train.stop_check_every steps (0: never, and signals then keep their default action)
// the workers run one blocking allreduce of four doubles: [SIGTERM seen, SIGINT seen, minutes due, stop
// file seen].
// Every worker takes the same decision at the same step, so no rank waits for one that left. Its cost
// is one small collective per K steps (log2 W latencies); it runs between steps, outside the metered
// step (core/comm/comm_meter.hpp), so no step's comm_s or exposed_s includes it. It is also a barrier every K steps, which bounds how far asynchronous parameter-server workers drift apart
// (K + 1 steps at most, where staleness 0 would allow any). A signal takes effect within K steps (the
// run finishes normally if it arrives after the last agreement before the end). Parameter-server ranks
// take no part: they follow the workers (checkpoint requests, then the end of serve()), so a signal
// that reaches only a server is not acted on; Slurm and mpirun signal every rank.
// Measured on the simulated P100 fat tree (32 ranks, smoke proxy model, 60 steps): K = 10 against no
// agreement changes the run's simulated time by +0.002% (about 7 us per agreement).
#include <cstdint>
#include <string>

#include "core/comm/communicator.hpp"
#include "core/config/run_config.hpp"

namespace gg {

struct BoundaryDecision {
  bool checkpoint = false;
  bool stop = false;
  int signal = 0;          // the signal that stops the run (stop only)
  double agreement_s = 0;  // time spent in the agreement (0 at boundaries without one); not in the step log
};

class RunControl {
 public:
  // can_checkpoint: the run has a log (its checkpoints go next to it). workers: the training ranks.
  // stop_file: the stop request file ("" for none).
  RunControl(const TrainOptions& opt, bool can_checkpoint, Communicator& workers, std::string stop_file = {});
  // At the boundary after `done` steps (before the last step's boundary only). Collective over the
  // workers at agreement boundaries.
  BoundaryDecision at(std::int64_t done);
  // A checkpoint was written: the minutes count from now.
  void checkpointed();

 private:
  double minutes_since_checkpoint() const;

  TrainOptions opt_;
  bool can_checkpoint_;
  Communicator& workers_;
  double last_checkpoint_s_;  // steady clock, seconds
  std::string stop_file_;
};

}  // namespace gg
