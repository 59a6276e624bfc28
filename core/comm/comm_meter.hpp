#pragma once
// What one rank's communication costs in one step, measured where every call passes: the metering
// communicator (metered_communicator.hpp) reports posts, completions, blocking calls and memory-bound
// work here, and the trainer reads one CommStepTotals per step.
//
// Definitions (all on the communicator's clock: simulated time under SMPI):
//   total_s    time during which at least one exchange of this rank was in flight: from a nonblocking
//              post until its completion is observed (test() true or wait()), or a blocking call ran.
//              Hidden or not: an exchange overlapped with compute still counts in full. Completion is
//              observed at the next progress call, so total_s is an upper bound at that granularity.
//   exposed_s  time the rank was blocked: inside Request::wait or a blocking call (the step waited).
//   calls_s    time inside posting, waiting and blocking communication calls (tests are charged as
//              progress calls in mem_s instead).
//   mem_s      memory-bound host work charged by the cost model (HostCosts): copies, averages,
//              corrections, reductions and optimizer updates announced with account_memory(), and
//              progress calls; 0 where nothing is charged (real hardware: that work is in the compute
//              time).
//   staging_s  GPU staging charged by the cost model: device->host before a buffer is sent, host->device
//              when a received one completes; the rank copies, so it counts as exposed and in total_s.
//   bytes      bytes_sent / bytes_recv of point-to-point messages as posted; a collective counts what a
//              bandwidth-optimal algorithm moves: allreduce 2(p-1)/p n each way, broadcast n per
//              receiving rank (root: n per other rank), gather n per sending rank.
//   msgs_sent  point-to-point messages posted; collectives count 2(p-1) (allreduce), p-1 (root of a
//              broadcast), 1 (a gather's non-root).
// Intervals that straddle a step boundary are split at it; time between steps (evaluations, log
// gathers) is never counted.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "core/comm/communicator.hpp"
#include "core/sim/host_costs.hpp"

namespace gg {

struct CommStepTotals {
  double total_s = 0, exposed_s = 0, calls_s = 0, mem_s = 0, staging_s = 0;
  std::uint64_t bytes_sent = 0, bytes_recv = 0, msgs_sent = 0, mem_bytes = 0, progress_calls = 0;
  std::uint64_t staged_bytes = 0;  // device<->host bytes the cost model charged as staging (both ways)
};

class CommMeter {
 public:
  CommMeter(std::function<double()> clock, HostCosts costs);
  CommMeter(const CommMeter&) = delete;
  CommMeter& operator=(const CommMeter&) = delete;
  ~CommMeter();

  const HostCosts& costs() const { return costs_; }

  // A nonblocking operation was posted: in flight until the returned observer hears of its completion,
  // when stage_in bytes are staged to the device (HostCosts::staging_Bps).
  RequestObserver* posted(std::uint64_t sent, std::uint64_t recv, std::uint64_t msgs, std::uint64_t stage_in);
  // A blocking call [begin, end): in flight and exposed.
  void blocking_begin(std::uint64_t sent, std::uint64_t recv, std::uint64_t msgs);
  void blocking_end();
  // Around every posting or blocking communication call: charges what is queued (before the call, so
  // that work done before a send delays it), then times the call.
  void call_begin();
  void call_end();
  // Device->host staging of a buffer about to be sent (host->device of a received one is charged at its
  // completion): charged now.
  void stage(std::uint64_t bytes);
  // Memory-bound host work just done: counted; its cost is queued and charged at the next call.
  void memory(std::size_t bytes);
  // Charges everything queued (memory work, progress calls) now.
  void flush();

  void reserve(std::size_t more);         // observers for this many more outstanding requests
  void begin_step();                      // starts a step's totals (drops what happened between steps)
  CommStepTotals end_step();              // charges what is queued and returns the step's totals

 private:
  class Tracked;
  friend class Tracked;
  void add_in_flight();
  void remove_in_flight();
  void wait_begin();
  void wait_end();
  void progress_call();
  void completed(std::uint64_t stage_in);

  std::function<double()> clock_;
  HostCosts costs_;
  CommStepTotals step_;
  int in_flight_ = 0;
  double busy_since_ = 0;
  int blocked_ = 0;
  double blocked_since_ = 0;
  int in_call_ = 0;
  double call_since_ = 0;
  double queued_s_ = 0;  // charges not yet applied
  std::vector<std::unique_ptr<Tracked>> pool_;
  std::vector<Tracked*> free_;
};

}  // namespace gg
