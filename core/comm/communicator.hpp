#pragma once
// The communicator: the only way ranks talk. MpiCommunicator (mpi_communicator.hpp) implements it on
// MPI, and the SMPI build is the same code compiled with smpicxx.
//
// Threading contract: a Communicator and its Requests are used by ONE thread only (the trainer's
// thread). MPI is initialised with MPI_THREAD_FUNNELED; OpenMP/OpenBLAS worker threads never call in.
//
// Requests: nonblocking calls return a Request handle. test() drives progress and returns true once
// complete; wait() blocks until complete. Buffers handed to a nonblocking call must stay alive and
// untouched until the request completes. A Request is move-only; destroying an incomplete one waits
// for it (never leaks an in-flight MPI request; an error while waiting in a destructor is swallowed).
// A Request must complete (or be destroyed) before the Communicator that issued it: implementations
// may pool their RequestImpl objects (MpiCommunicator does, so the per-step path allocates nothing).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>

namespace gg {

class RequestImpl {
 public:
  virtual ~RequestImpl() = default;
  virtual bool test() = 0;
  virtual void wait() = 0;
  // How a Request disposes of a finished impl: delete by default; pooled impls return to their pool.
  virtual void release() { delete this; }
};

class Request {
  struct Release {
    void operator()(RequestImpl* p) const { p->release(); }
  };

 public:
  Request() = default;
  explicit Request(std::unique_ptr<RequestImpl> impl) : impl_(impl.release()) {}
  // Takes ownership of a pooled impl: it is handed back through impl->release(), never deleted here.
  static Request adopt(RequestImpl* impl) {
    Request r;
    r.impl_.reset(impl);
    return r;
  }
  Request(Request&&) noexcept = default;
  Request& operator=(Request&& o) noexcept {
    if (this != &o) { quiet_wait(); impl_ = std::move(o.impl_); }
    return *this;
  }
  ~Request() { quiet_wait(); }
  bool active() const { return impl_ != nullptr; }
  bool test() {
    if (impl_ && impl_->test()) impl_.reset();
    return !impl_;
  }
  void wait() {
    if (impl_) { impl_->wait(); impl_.reset(); }
  }

 private:
  void quiet_wait() noexcept {
    try { wait(); } catch (...) { impl_.reset(); }
  }
  std::unique_ptr<RequestImpl, Release> impl_;
};

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual std::string library_version() const = 0;

  // Point to point (bytes). Tags separate concurrent streams (gradients, samples, control).
  virtual Request isend(const void* buf, std::size_t bytes, int dest, int tag) = 0;
  virtual Request irecv(void* buf, std::size_t bytes, int src, int tag) = 0;
  virtual void send(const void* buf, std::size_t bytes, int dest, int tag) = 0;
  virtual void recv(void* buf, std::size_t bytes, int src, int tag) = 0;
  // Receives from any source; returns the sender. bytes is the buffer's capacity; *got the count.
  virtual int recv_any(void* buf, std::size_t bytes, int tag, std::size_t* got) = 0;

  // Collectives over all ranks, in place, element-wise sum.
  virtual void allreduce_sum(std::span<float> data) = 0;
  virtual void allreduce_sum(std::span<double> data) = 0;
  virtual Request iallreduce_sum(std::span<float> data) = 0;
  virtual void broadcast(void* buf, std::size_t bytes, int root) = 0;
  // Gathers `bytes` from every rank into out (size()*bytes) on root; out is ignored elsewhere.
  virtual void gather(const void* in, std::size_t bytes, void* out, int root) = 0;
  virtual void barrier() = 0;

  // Ends every rank with a non-zero code; used when one rank found a fatal input error that the
  // others cannot know about. Never returns.
  [[noreturn]] virtual void abort(int code) = 0;

  // A new communicator over the ranks that pass the same color, ordered as in this one. Collective
  // over all ranks of this communicator. Lets training ranks run collectives without the
  // parameter-server ranks.
  virtual std::unique_ptr<Communicator> split(int color) = 0;

  // Announces that the caller may keep up to n more requests outstanding at once. Implementations
  // that pool requests grow the pool now, so that later nonblocking calls allocate nothing.
  virtual void reserve_requests(std::size_t n) {}

  // Seconds on a monotonic clock (MPI_Wtime under MPI, which is simulated time under SMPI).
  virtual double wtime() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
  }
};

}  // namespace gg
