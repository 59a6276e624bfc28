// RunControl (core/train/run_control.hpp): which boundaries checkpoint and stop, agreed by every worker
// (ranks as threads), and the SIGTERM handler feeding it (core/util/stop_signal.hpp).
#include <gtest/gtest.h>

#include <csignal>
#include <mutex>
#include <vector>

#include "core/comm/inproc_communicator.hpp"
#include "core/train/run_control.hpp"
#include "core/util/stop_signal.hpp"

namespace gg {
namespace {

// Every worker's decisions at boundaries 1..n, as "c" (checkpoint), "s" (stop), "cs" or "-".
std::vector<std::vector<std::string>> decisions(int p, const TrainOptions& opt, bool can_checkpoint, int n) {
  std::vector<std::vector<std::string>> out(static_cast<std::size_t>(p));
  run_ranks(p, [&](Communicator& comm) {
    RunControl control(opt, can_checkpoint, comm);
    for (int done = 1; done <= n; ++done) {
      const BoundaryDecision d = control.at(done);
      std::string s = std::string(d.checkpoint ? "c" : "") + (d.stop ? "s" : "");
      if (d.stop) {
        EXPECT_EQ(d.signal, SIGTERM);
      }
      out[std::size_t(comm.rank())].push_back(s.empty() ? "-" : s);
      if (d.checkpoint) control.checkpointed();
    }
  });
  return out;
}

TEST(RunControl, CheckpointsEveryNStepsWithoutASignal) {
  ASSERT_EQ(stop_signal(), 0);  // this process has not been signalled (the signal test runs alone)
  TrainOptions opt;
  opt.checkpoint_every = 3;
  opt.stop_check_every = 2;
  const auto d = decisions(3, opt, true, 7);
  for (const auto& w : d) EXPECT_EQ(w, (std::vector<std::string>{"-", "-", "c", "-", "-", "c", "-"}));
  for (const auto& w : decisions(3, opt, false, 7)) EXPECT_EQ(w, std::vector<std::string>(7, "-")) << "no log, no checkpoint";
}

TEST(RunControl, MinutesAreDecidedByWorkerZeroAtAgreementBoundaries) {
  ASSERT_EQ(stop_signal(), 0);
  TrainOptions opt;
  opt.checkpoint_minutes = 1e-12;  // always due when asked
  opt.stop_check_every = 2;
  for (const auto& w : decisions(4, opt, true, 5)) EXPECT_EQ(w, (std::vector<std::string>{"-", "c", "-", "c", "-"}));
  opt.checkpoint_minutes = 1e6;  // never due
  for (const auto& w : decisions(4, opt, true, 5)) EXPECT_EQ(w, std::vector<std::string>(5, "-"));
}

// The real handler: SIGTERM to this process is seen by every worker at the next agreement boundary, which
// then checkpoints (when there is a log) and stops. Last in the file: the flag cannot be taken back.
TEST(RunControl, ZSigtermStopsEveryWorkerAtTheSameBoundary) {
  install_stop_signals();
  ASSERT_EQ(std::raise(SIGTERM), 0);
  ASSERT_EQ(stop_signal(), SIGTERM);
  TrainOptions opt;
  opt.stop_check_every = 3;
  for (const auto& w : decisions(3, opt, true, 3)) EXPECT_EQ(w, (std::vector<std::string>{"-", "-", "cs"}));
  for (const auto& w : decisions(3, opt, false, 3)) EXPECT_EQ(w, (std::vector<std::string>{"-", "-", "s"}));
  opt.stop_check_every = 0;  // no agreement: the run does not look
  for (const auto& w : decisions(2, opt, true, 3)) EXPECT_EQ(w, std::vector<std::string>(3, "-"));
}

}  // namespace
}  // namespace gg
