#pragma once
// An in-process world: p ranks that are threads of one process, each with a Communicator that behaves
// like MpiCommunicator (the whole interface, MPI's matching rules), so that tests run every algorithm
// at every p without mpiexec.
//
//   run_ranks(4, [](Communicator& c) { ... c.rank() ... });  // 4 threads, joined; rethrows the first error
//
// Semantics (what differs from MPI is marked):
// - Point to point: messages from one rank to another with one tag are non-overtaking; a receive posted
//   before its send is matched by it, receives are matched in the order posted. An isend is matched at
//   post time: it returns at once and never needs the receiver to have posted, but it stays incomplete
//   (its buffer untouched) until a receive takes it, which copies straight from the sender's buffer (like
//   MPI's rendezvous protocol; no buffers, so nothing allocates however the threads are scheduled).
//   A blocking send is synchronous (MPI_Ssend): it returns once a receive has taken the message. Code
//   that only works because MPI buffers small sends (two ranks sending to each other before either
//   receives) therefore deadlocks here, and is reported at once. A message larger than its receive
//   buffer fails that receive (std::runtime_error naming both sizes). recv_any takes the earliest-sent
//   matching message.
// - Collectives are matched by call order (the k-th collective of each rank of a communicator meets
//   the others' k-th); ranks that call different collectives (or different sizes) fail the world. The
//   last rank to arrive does the work: sums add the ranks' values in rank order, so every rank gets the
//   same bits. iallreduce_sum completes once every rank has started it.
// - Allocation: requests come from a per-rank pool and collectives use per-communicator slots; both
//   start with enough for blocking calls and grow with reserve_requests() (then by one whenever more are
//   outstanding than reserved). No message is ever buffered and sums need no scratch, so an algorithm
//   that reserves what it keeps outstanding allocates nothing on its per-step path, whatever the thread
//   timing. test() yields the thread when the request is not done.
// - Failure: a world fails when a rank throws inside run_ranks, when a rank calls abort(code) (which
//   throws std::runtime_error on the caller instead of ending the process: DIFFERS from MPI), when every
//   rank is blocked in a wait that nothing can complete (a deadlock, detected at once), or when a
//   request has waited longer than the timeout (60 s by default: a spin loop on test() or a livelock).
//   Then every call that waits or would wait on every rank throws std::runtime_error naming the cause.
// - Threading: rank r's communicator (and communicators split from it) is used by one thread only, the
//   thread of rank r; all ranks share one lock.
// - wtime() is the steady clock; max_tag() is INT_MAX.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/comm/communicator.hpp"

namespace gg {

namespace inproc {
struct Shared;
}

class InProcessWorld {
 public:
  // p >= 1 ranks. timeout_s: the longest a request may stay incomplete while waited or tested.
  explicit InProcessWorld(int p, double timeout_s = 60.0);
  ~InProcessWorld();
  InProcessWorld(const InProcessWorld&) = delete;
  InProcessWorld& operator=(const InProcessWorld&) = delete;

  int size() const { return int(comms_.size()); }
  Communicator& comm(int rank);

  // Runs fn(comm(r)) on p threads (rank r on thread r) and joins them all. If a rank throws, the world
  // fails (the other ranks' waits throw instead of hanging) and run rethrows the first error.
  void run(const std::function<void(Communicator&)>& fn);

  // Fails the world: from now on every waiting call of every rank throws std::runtime_error(why...).
  // The first reason is kept.
  void fail(const std::string& why);
  bool failed() const;

 private:
  std::shared_ptr<inproc::Shared> shared_;
  std::vector<std::unique_ptr<Communicator>> comms_;  // [rank]
};

// InProcessWorld(p).run(fn): p threads, rank r gets comm(r); rethrows the first rank's error.
void run_ranks(int p, const std::function<void(Communicator&)>& fn);

}  // namespace gg
