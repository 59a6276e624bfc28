#include "core/train/health.hpp"

#include <cstdio>
#include <utility>
#include <vector>

namespace gg {

namespace {

std::string number(double v) {
  if (std::isnan(v)) return "nan";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

const char* const kAdvice = "; lower optimizer.lr (or raise train.max_loss)";

}  // namespace

HealthMonitor::HealthMonitor(double max_loss, int every, Communicator& workers)
    : limit_(max_loss > 0 ? max_loss : std::numeric_limits<double>::infinity()), every_(every), workers_(workers) {}

std::string HealthMonitor::agree(std::int64_t done, const EvalRecord* eval) {
  std::vector<double> flag{first_bad_ >= 0 ? 1.0 : 0.0, bad_params_ >= 0 ? 1.0 : 0.0};
  workers_.allreduce_sum(flag);
  if (flag[0] == 0 && flag[1] > 0)
    return "training diverged: " + std::to_string(std::int64_t(flag[1])) + " of " + std::to_string(workers_.size()) +
           " workers' parameters are no longer finite at step " + std::to_string(done) +
           " (found before checkpointing; no checkpoint written)" + kAdvice;
  if (flag[0] > 0) {  // who, when and what: one slot per worker (step + 1, loss); 0 = healthy
    const int p = workers_.size(), me = workers_.rank();
    std::vector<double> slots(2 * std::size_t(p), 0.0);
    if (first_bad_ >= 0) {
      slots[2 * std::size_t(me)] = double(first_bad_ + 1);
      slots[2 * std::size_t(me) + 1] = double(bad_loss_);
    }
    workers_.allreduce_sum(slots);
    int who = -1, count = 0;
    for (int w = 0; w < p; ++w) {
      const double s = slots[2 * std::size_t(w)];
      if (s <= 0) continue;
      ++count;
      if (who < 0 || s < slots[2 * std::size_t(who)]) who = w;
    }
    const double loss = slots[2 * std::size_t(who) + 1];
    const std::string what = std::isfinite(loss) ? number(loss) + ", above train.max_loss " + number(limit_)
                                                 : std::string(std::isnan(loss) ? "nan" : "infinite");
    return "training diverged: worker " + std::to_string(who) + "'s batch loss was " + what + " at step " +
           std::to_string(std::int64_t(slots[2 * std::size_t(who)]) - 1) + " (" + std::to_string(count) + " of " +
           std::to_string(p) + " workers diverged by step " + std::to_string(done) + ")" + kAdvice;
  }
  if (eval) {
    const std::pair<const char*, double> checks[] = {{"the consensus distance", eval->consensus},
                                                     {"the averaged model's test loss", eval->averaged.loss},
                                                     {"worker 0's test loss", eval->rank0.loss}};
    for (const auto& [what, value] : checks)
      if (!std::isfinite(value))
        return std::string("training diverged: ") + what + " is " + number(value) + " at step " +
               std::to_string(done) + " (a worker's parameters are no longer finite)" + kAdvice;
  }
  return "";
}

}  // namespace gg
