#pragma once
// The nonblocking allreduce (sum, in place) that algorithms run on gradient buckets: the transport's
// comm.iallreduce_sum (MPI_Iallreduce) by default, or, with ring = true (AlgorithmEnv::ring_iallreduce,
// config key comm.iallreduce = "ring"), the engine's own schedule on point-to-point messages
// (ring_allreduce.hpp), which SMPI runs need because SMPI's MPI_Iallreduce is naive.
//
// Slots: one per operation that may be in flight at once (an algorithm uses one per bucket). plan()
// sets them up (allocates); start() allocates nothing. In ring mode each slot keeps its schedule, its
// receive buffer and its own tag: plan() reserves one tag per slot (a new block only when the slot count
// grows), so ranks must plan in the same order, as they construct algorithms in the same order.
// Like every collective, operations must be started in the same order on all ranks.
#include <cstddef>
#include <memory>
#include <span>
#include <vector>

#include "algorithms/ring_allreduce.hpp"
#include "core/comm/communicator.hpp"

namespace gg {

class Iallreduce {
 public:
  Iallreduce(Communicator& comm, bool ring) : comm_(comm), ring_(ring) {}
  Iallreduce(const Iallreduce&) = delete;
  Iallreduce& operator=(const Iallreduce&) = delete;

  // One slot per entry; slot i reduces counts[i] floats. No operation may be in flight.
  void plan(std::span<const std::size_t> counts);
  std::size_t slots() const { return counts_.size(); }
  bool ring() const { return ring_; }
  // Starts slot i on data (in place). The Request completes it; at most one per slot in flight.
  // Throws std::out_of_range for an unplanned slot.
  Request start(std::size_t slot, std::span<float> data);

 private:
  Communicator& comm_;
  bool ring_;
  std::vector<std::size_t> counts_;                  // [slot]
  std::vector<std::unique_ptr<RingAllreduce>> ops_;  // [slot], ring mode only
};

}  // namespace gg
