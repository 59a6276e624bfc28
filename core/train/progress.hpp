#pragma once
// Progress on the terminal (rank 0 only): epoch, step, loss, images/s, ETA; and evaluation lines.
#include <cstdint>
#include <cstdio>
#include <string>

#include "core/train/records.hpp"

namespace gg {

class Progress {
 public:
  Progress(bool enabled, std::int64_t total_steps, std::int64_t steps_per_epoch, int global_batch,
           std::FILE* out = stdout);
  // Called every step with the wall time since training started; prints every `every` steps.
  void step(std::int64_t step, double loss, double elapsed_s, int every);
  void eval(const EvalRecord& e, bool several_replicas);
  static std::string duration(double seconds);

 private:
  bool enabled_;
  std::int64_t total_, per_epoch_;
  int global_batch_;
  std::FILE* out_;
  double loss_sum_ = 0;
  int loss_count_ = 0;
  double last_time_ = 0;
  std::int64_t last_step_ = 0;
};

}  // namespace gg
