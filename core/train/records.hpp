#pragma once
// What a run records. Steps are recorded per rank and gathered to rank 0 at each evaluation, so the
// per-step path costs one small struct copy.
#include <cstdint>
#include <string>
#include <vector>

namespace gg {

struct StepRecord {        // one step on one worker (the meanings: core/log/SCHEMA.md, /steps)
  std::int64_t step = 0;
  float loss = 0;
  float compute_s = 0;     // step time not spent in communication calls or charged host work
  float comm_s = 0;        // time inside posting, waiting and blocking communication calls
  float exposed_s = 0;     // time blocked waiting for communication (the step waited)
  float total_s = 0;       // time with an exchange in flight, hidden or not
  float mem_s = 0;         // charged memory-bound host work and progress calls (simulated cluster)
  float staging_s = 0;     // charged GPU staging (simulated cluster)
  std::int32_t partner = -1;
  std::int32_t staleness = 0;  // steps between the parameters a gradient was computed on and those it updates
  std::uint64_t bytes_sent = 0, bytes_recv = 0, msgs_sent = 0, mem_bytes = 0;
};

struct Metrics {
  double loss = 0, top1 = 0, top5 = 0;  // mean loss, accuracies in [0, 1]
};

struct EvalRecord {
  std::int64_t step = 0;
  double epoch = 0;
  double wall_s = 0;
  Metrics rank0;           // replica of worker 0
  Metrics averaged;        // the average of all replicas (not fed back)
  Metrics replica_min, replica_max;  // over replicas (equal to rank0 when eval_replicas is off)
  double consensus = 0;    // mean_i ||x_i - xbar|| / ||xbar||
  // Empty for the evaluations during training. "allreduce" or "hypercube": this row evaluates the
  // replicas after train.final_average (core/train/final_average.hpp), the run's exact final model.
  std::string final_average;
};

// Receives records on rank 0. steps holds steps x workers records, step-major.
class RunSink {
 public:
  virtual ~RunSink() = default;
  virtual void on_steps(const std::vector<StepRecord>& steps, int workers) = 0;
  virtual void on_eval(const EvalRecord& eval) = 0;
  // A checkpoint after steps_done steps is about to be written: everything so far must reach the disk.
  virtual void on_checkpoint(std::int64_t steps_done) {}
  virtual void on_finish(double wall_s) = 0;
  // Training was stopped early (the divergence check): why, in one line. The run is not finished.
  virtual void on_stop(const std::string& reason) {}
};

}  // namespace gg
