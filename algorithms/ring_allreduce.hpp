#pragma once
// A nonblocking allreduce (sum, in place) on the Communicator's point-to-point messages, advanced only
// inside test()/wait() (like Open MPI's libnbc without a progress thread). Two schedules, the ones libnbc
// uses for large commutative reductions:
//   - p a power of two (and at least p floats): Rabenseifner's reduce-scatter by recursive halving, then
//     allgather by recursive doubling: 2 log2(p) rounds, each rank sends 2 (p-1)/p of the data in all;
//   - otherwise a ring: p-1 reduce-scatter rounds then p-1 allgather rounds of one 1/p chunk each.
// Both move the bandwidth-optimal 2 (p-1)/p of the data per rank; they differ in the number of rounds.
// The order of the additions depends only on p and the count, so every run of the same configuration
// sums bitwise identically, and every rank ends with the same bits (each chunk is summed once, by the
// rank that owns it after the reduce-scatter, then copied); the order differs from MPI_Iallreduce's.
//
// Why it exists: SimGrid SMPI implements MPI_Iallreduce naively (every rank sends the whole buffer to
// every other rank, O(p) times the data), which is neither what Open MPI does nor simulable at 1024
// ranks. Algorithms reach it through Iallreduce (iallreduce.hpp) when AlgorithmEnv::ring_iallreduce is
// set (config key comm.iallreduce = "ring", which scripts/run_smpi.py sets).
//
// Host-staged: on a simulated GPU cluster the buffer is copied to the host once when an operation
// starts and back once when it completes (Communicator::account_staging), and every round's message
// runs on host memory (Communicator::host_resident), as a host-staged allreduce does (Horovod's and
// MaTEx's CPU path); per-message staging would copy 2 (p-1)/p of the data each way instead of once.
//
// One object is one reusable operation slot: plan(count) sizes the schedule and buffer once, then each
// start() on that many floats allocates nothing. All messages carry the slot's tag, which no other
// operation may use while this one is in flight (operations progress at different rates on different
// ranks); successive operations of one slot may share it, since messages between two ranks with one
// tag are non-overtaking. Threading: one thread, like its Communicator.
#include <cstddef>
#include <span>
#include <vector>

#include "core/comm/communicator.hpp"

namespace gg {

class RingAllreduce final : public RequestImpl {
 public:
  RingAllreduce(Communicator& comm, int tag);
  ~RingAllreduce() override;
  RingAllreduce(const RingAllreduce&) = delete;
  RingAllreduce& operator=(const RingAllreduce&) = delete;

  // Plans the schedule for `count` floats (allocates). start() re-plans when the count differs.
  void plan(std::size_t count);
  // Starts summing `data` over all ranks, in place. The Request completes the operation and must finish
  // before this object is destroyed. Throws std::logic_error while the previous operation is in flight.
  Request start(std::span<float> data);
  bool in_flight() const { return in_flight_; }
  int tag() const { return tag_; }

  bool test() override;  // runs every round that can finish without blocking
  void wait() override;
  void release() override;  // the Request is done with this slot (it is reused, never deleted)

 private:
  struct Round {            // one exchange: send [send_off, +send_len), receive [recv_off, +recv_len)
    int peer_send, peer_recv;
    std::size_t send_off, send_len, recv_off, recv_len;
    bool reduce;            // add the received floats (reduce-scatter) or store them (allgather)
  };
  void plan_ring(std::size_t n);
  void plan_halving_doubling(std::size_t n);
  void start_round();
  void finish_round();

  Communicator& comm_;  // where the two staging copies are charged
  Communicator& net_;   // comm_.host_resident(): the rounds' messages
  int tag_, rank_, p_;
  bool planned_ = false, in_flight_ = false;
  std::size_t count_ = 0;    // planned float count
  std::span<float> data_;
  std::size_t round_ = 0;
  std::vector<Round> rounds_;
  std::vector<float> tmp_;   // [largest received block] incoming partial sums
  Request send_, recv_;      // this round's messages
};

}  // namespace gg
