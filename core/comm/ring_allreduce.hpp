#pragma once
// A nonblocking ring allreduce (sum, in place) on MPI point-to-point messages: p-1 reduce-scatter
// rounds then p-1 allgather rounds, each sending one 1/p chunk to the right neighbour and receiving one
// from the left. It is the algorithm Open MPI's libnbc uses for large in-place MPI_Iallreduce, and like
// libnbc without a progress thread it advances only inside test()/wait().
//
// Why it exists: SimGrid SMPI implements MPI_Iallreduce naively (every rank sends the whole buffer to
// every other rank, O(p) times the data), which is neither what Open MPI does nor simulable at 1024
// ranks. MpiCommunicator uses this class for iallreduce_sum when GG_IALLREDUCE=ring is set in the
// environment (scripts/run_smpi.py sets it); otherwise it calls MPI_Iallreduce.
//
// Messages travel on `comm` with `tag`; the caller gives each concurrent operation its own tag (all
// ranks start operations in the same order, so a counter agrees everywhere). Threading: one thread.
#include <cstddef>
#include <memory>
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
  void start_round();
  void finish_round();
  std::size_t offset(int chunk) const;
  std::size_t length(int chunk) const { return offset(chunk + 1) - offset(chunk); }
  int mod(int x) const { return ((x % p_) + p_) % p_; }

  MPI_Comm comm_;
  std::span<float> data_;
  int tag_, rank_ = 0, p_ = 1;
  int round_ = 0, rounds_ = 0;
  std::vector<float> tmp_;   // [largest chunk] incoming partial sums
  MPI_Request reqs_[2] = {MPI_REQUEST_NULL, MPI_REQUEST_NULL};
};

}  // namespace gg
