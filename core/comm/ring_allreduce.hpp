#pragma once
// A nonblocking allreduce (sum, in place) on MPI point-to-point messages, advanced only inside
// test()/wait() (like Open MPI's libnbc without a progress thread). Two schedules, the ones libnbc uses
// for large commutative reductions:
//   - p a power of two: Rabenseifner's reduce-scatter by recursive halving, then allgather by recursive
//     doubling: 2 log2(p) rounds, each rank sends 2 (p-1)/p of the data in all;
//   - otherwise a ring: p-1 reduce-scatter rounds then p-1 allgather rounds of one 1/p chunk each.
// Both move the bandwidth-optimal 2 (p-1)/p of the data per rank; they differ in the number of rounds.
//
// Why it exists: SimGrid SMPI implements MPI_Iallreduce naively (every rank sends the whole buffer to
// every other rank, O(p) times the data), which is neither what Open MPI does nor simulable at 1024
// ranks. MpiCommunicator uses this class for iallreduce_sum after use_ring_iallreduce() (config key
// comm.iallreduce = "ring", which scripts/run_smpi.py sets); otherwise it calls MPI_Iallreduce.
//
// Messages travel on `comm` with `tag`; the caller gives each concurrent operation its own tag (all
// ranks start operations in the same order, so a counter agrees everywhere). Threading: one thread.
#include <cstddef>
#include <span>
#include <vector>

#include <mpi.h>

#include "core/comm/communicator.hpp"

namespace gg {

class RingAllreduce final : public RequestImpl {
 public:
  RingAllreduce(MPI_Comm comm, std::span<float> data, int tag);
  bool test() override;  // runs every round that can finish without blocking
  void wait() override;

 private:
  struct Round {            // one exchange: send [send_off, +send_len), receive [recv_off, +recv_len)
    int peer_send, peer_recv;
    std::size_t send_off, send_len, recv_off, recv_len;
    bool reduce;            // add the received floats (reduce-scatter) or store them (allgather)
  };
  void plan_ring();
  void plan_halving_doubling();
  void start_round();
  void finish_round();

  MPI_Comm comm_;
  std::span<float> data_;
  int tag_, rank_ = 0, p_ = 1;
  std::size_t round_ = 0;
  std::vector<Round> rounds_;
  std::vector<float> tmp_;   // [largest received block] incoming partial sums
  MPI_Request reqs_[2] = {MPI_REQUEST_NULL, MPI_REQUEST_NULL};
};

}  // namespace gg
