#pragma once
// Communicator on MPI (Open MPI here; the same code compiles with SimGrid's smpicxx). Plain MPI-3:
// point-to-point, MPI_Iallreduce, blocking collectives; no one-sided calls, no MPI_THREAD_MULTIPLE.
//
// - Works on its own duplicate of MPI_COMM_WORLD (or of a split), so its tags never meet anyone
//   else's messages. MPI must have been initialised (see MpiSession); the constructor does not.
// - Every MPI call's return code is checked (the communicator has MPI_ERRORS_RETURN): a failure
//   throws std::runtime_error naming the call, the peer and the size.
// - Sizes above 2^30 bytes (or elements) are split into several messages / collectives, so counts
//   never overflow MPI's int. recv_any and gather are limited to 2^31-1 bytes per rank.
// - Requests come from a per-communicator pool, sized by reserve_requests() (and grown on demand), so
//   a nonblocking call allocates nothing once the pool is large enough (a message above 2^30 bytes
//   may still grow its request's chunk list once). Every Request must complete before its communicator.
// - Threading: one thread (see communicator.hpp).
// - Tags: max_tag() is the communicator's MPI_TAG_UB (queried once), so reserve_tags() throws instead
//   of handing out a tag MPI would reject.
// - Stalls: with a StallWatchdog attached (watch()), every wait, blocking calls included (as their
//   nonblocking twins), is completed by the watchdog's polling loop, which names the ranks a long wait
//   is stuck on and ends the job after a limit (stall_watchdog.hpp). Without one, plain MPI calls.
// - iallreduce_sum is always MPI_Iallreduce; the engine's own schedule on point-to-point messages
//   (config key comm.iallreduce = "ring") is an algorithm building block: algorithms/iallreduce.hpp.
#include <memory>
#include <vector>

#include <mpi.h>

#include "core/comm/communicator.hpp"
#include "core/comm/stall_watchdog.hpp"

namespace gg {

class MpiCommunicator final : public Communicator {
 public:
  MpiCommunicator();  // duplicates MPI_COMM_WORLD
  ~MpiCommunicator() override;
  MpiCommunicator(const MpiCommunicator&) = delete;
  MpiCommunicator& operator=(const MpiCommunicator&) = delete;

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string library_version() const override;

  Request isend(const void* buf, std::size_t bytes, int dest, int tag) override;
  Request irecv(void* buf, std::size_t bytes, int src, int tag) override;
  void send(const void* buf, std::size_t bytes, int dest, int tag) override;
  void recv(void* buf, std::size_t bytes, int src, int tag) override;
  int recv_any(void* buf, std::size_t bytes, int tag, std::size_t* got) override;

  void allreduce_sum(std::span<float> data) override;
  void allreduce_sum(std::span<double> data) override;
  Request iallreduce_sum(std::span<float> data) override;
  void broadcast(void* buf, std::size_t bytes, int root) override;
  void gather(const void* in, std::size_t bytes, void* out, int root) override;
  void barrier() override;
  std::unique_ptr<Communicator> split(int color) override;
  [[noreturn]] void abort(int code) override;
  double wtime() const override { return MPI_Wtime(); }
  void reserve_requests(std::size_t n) override;
  int max_tag() const override { return tag_ub_; }

  MPI_Comm handle() const { return comm_; }
  // Attaches a stall watchdog (null: none); it must outlive every wait on this communicator.
  void watch(StallWatchdog* watchdog) { watchdog_ = watchdog; }

 private:
  class Req;
  explicit MpiCommunicator(MPI_Comm owned);
  void init();
  Req* acquire(const char* op, int peer, std::size_t bytes);
  void grow_pool();

  MPI_Comm comm_ = MPI_COMM_NULL;
  int rank_ = 0, size_ = 1;
  std::vector<std::unique_ptr<Req>> pool_;  // every Req ever made
  std::vector<Req*> free_;                  // capacity kept >= pool_.size(): release never allocates
  std::size_t reserved_ = 0;                // sum of reserve_requests() calls
  int tag_ub_ = 32767;                      // MPI_TAG_UB of comm_ (32767: MPI's guaranteed minimum)
  StallWatchdog* watchdog_ = nullptr;       // completes waits when attached (watch())
};

}  // namespace gg
