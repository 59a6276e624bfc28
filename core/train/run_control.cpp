#include "core/train/run_control.hpp"

#include <array>
#include <chrono>
#include <csignal>
#include <span>
#include <utility>

#include <unistd.h>

#include "core/util/stop_signal.hpp"

namespace gg {

namespace {

double steady_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

RunControl::RunControl(const TrainOptions& opt, bool can_checkpoint, Communicator& workers, std::string stop_file)
    : opt_(opt), can_checkpoint_(can_checkpoint), workers_(workers), last_checkpoint_s_(steady_s()),
      stop_file_(std::move(stop_file)) {}

double RunControl::minutes_since_checkpoint() const { return (steady_s() - last_checkpoint_s_) / 60.0; }

void RunControl::checkpointed() { last_checkpoint_s_ = steady_s(); }

BoundaryDecision RunControl::at(std::int64_t done) {
  BoundaryDecision d;
  d.checkpoint = can_checkpoint_ && opt_.checkpoint_every > 0 && done % opt_.checkpoint_every == 0;
  if (opt_.stop_check_every <= 0 || done % opt_.stop_check_every != 0) return d;
  const int sig = stop_signal();
  const bool minutes_due = can_checkpoint_ && opt_.checkpoint_minutes > 0 && workers_.rank() == 0 &&
                           minutes_since_checkpoint() >= opt_.checkpoint_minutes;
  const bool requested = !stop_file_.empty() && workers_.rank() == 0 && ::access(stop_file_.c_str(), F_OK) == 0;
  std::array<double, 4> v{sig == SIGTERM ? 1.0 : 0.0, sig == SIGINT ? 1.0 : 0.0, minutes_due ? 1.0 : 0.0,
                          requested ? 1.0 : 0.0};
  const double t0 = workers_.wtime();
  workers_.allreduce_sum(std::span<double>(v));  // nothing allocated on the step path
  d.agreement_s = workers_.wtime() - t0;
  if (v[0] > 0 || v[1] > 0 || v[3] > 0) {
    d.stop = true;
    d.signal = v[0] > 0 ? SIGTERM : v[1] > 0 ? SIGINT : kStopRequest;
  }
  d.checkpoint = d.checkpoint || (can_checkpoint_ && (d.stop || v[2] > 0));
  return d;
}

}  // namespace gg
