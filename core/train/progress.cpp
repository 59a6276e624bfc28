#include "core/train/progress.hpp"

#include <cmath>

namespace gg {

Progress::Progress(bool enabled, std::int64_t total_steps, std::int64_t steps_per_epoch, int global_batch,
                   std::FILE* out)
    : enabled_(enabled), total_(total_steps), per_epoch_(steps_per_epoch), global_batch_(global_batch), out_(out) {}

std::string Progress::duration(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  char buf[32];
  const long t = long(s + 0.5);
  if (t >= 3600) std::snprintf(buf, sizeof buf, "%ldh%02ldm", t / 3600, (t / 60) % 60);
  else if (t >= 60) std::snprintf(buf, sizeof buf, "%ldm%02lds", t / 60, t % 60);
  else std::snprintf(buf, sizeof buf, "%lds", t);
  return buf;
}

void Progress::step(std::int64_t step, double loss, double elapsed_s, int every) {
  loss_sum_ += loss;
  ++loss_count_;
  const std::int64_t done = step + 1;
  if (!enabled_ || (done % every != 0 && done != total_)) return;
  const double rate = double(done - last_step_) * global_batch_ / std::max(1e-9, elapsed_s - last_time_);
  const double eta = (total_ - done) * (elapsed_s / double(done));
  std::fprintf(out_, "epoch %lld/%lld  step %lld/%lld  loss %.4f  %.0f img/s  elapsed %s  ETA %s\n",
               (long long)(step / per_epoch_ + 1), (long long)((total_ + per_epoch_ - 1) / per_epoch_),
               (long long)done, (long long)total_, loss_sum_ / loss_count_, rate, duration(elapsed_s).c_str(),
               duration(eta).c_str());
  std::fflush(out_);
  loss_sum_ = 0;
  loss_count_ = 0;
  last_time_ = elapsed_s;
  last_step_ = done;
}

void Progress::eval(const EvalRecord& e, bool several) {
  if (!enabled_) return;
  if (!e.final_average.empty()) std::fprintf(out_, "final model (replicas averaged by %s):\n", e.final_average.c_str());
  std::fprintf(out_, "eval  epoch %.2f  step %lld  test loss %.4f  top-1 %.2f%%  top-5 %.2f%%", e.epoch,
               (long long)e.step, e.rank0.loss, 100 * e.rank0.top1, 100 * e.rank0.top5);
  if (several)
    std::fprintf(out_, "  | averaged top-1 %.2f%%  replicas %.2f..%.2f%%  consensus %.2e", 100 * e.averaged.top1,
                 100 * e.replica_min.top1, 100 * e.replica_max.top1, e.consensus);
  std::fprintf(out_, "\n");
  std::fflush(out_);
}

}  // namespace gg
