#pragma once
// The communicator: the only way ranks talk. MpiCommunicator (mpi_communicator.hpp) implements it on
// MPI, and the SMPI build is the same code compiled with smpicxx; InProcessWorld
// (inproc_communicator.hpp) on threads of one process, for tests.
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
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>

namespace gg {

class RequestImpl {
 public:
  virtual ~RequestImpl() = default;
  virtual bool test() = 0;
  virtual void wait() = 0;
  // How a Request disposes of a finished impl: delete by default; pooled impls return to their pool.
  virtual void release() { delete this; }
};

// Told about one request's life by a metering communicator (core/comm/metered_communicator.hpp).
class RequestObserver {
 public:
  virtual void on_test() = 0;        // Request::test was called (a progress call)
  virtual void on_wait_begin() = 0;  // Request::wait is about to block
  virtual void on_wait_end() = 0;    // ... and has returned (or thrown)
  virtual void on_complete() = 0;    // the request completed (test() true, wait(), or destruction)

 protected:
  ~RequestObserver() = default;
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
  Request(Request&& o) noexcept : impl_(std::move(o.impl_)), observer_(o.observer_) { o.observer_ = nullptr; }
  Request& operator=(Request&& o) noexcept {
    if (this != &o) {
      quiet_wait();
      impl_ = std::move(o.impl_);
      observer_ = o.observer_;
      o.observer_ = nullptr;
    }
    return *this;
  }
  ~Request() { quiet_wait(); }
  bool active() const { return impl_ != nullptr; }
  bool test() {
    if (observer_) observer_->on_test();
    if (impl_ && impl_->test()) {
      impl_.reset();
      completed();
    }
    return !impl_;
  }
  void wait() {
    if (!impl_) return;
    if (observer_) {
      observer_->on_wait_begin();
      try {
        impl_->wait();
      } catch (...) {
        observer_->on_wait_end();
        throw;
      }
      observer_->on_wait_end();
    } else {
      impl_->wait();
    }
    impl_.reset();
    completed();
  }
  // Reports this request's completion to `o` (a metering communicator; null: nobody). The observer
  // must outlive the request, as the communicator that issued it does.
  void observe(RequestObserver* o) { observer_ = impl_ ? o : nullptr; }

 private:
  void completed() {
    if (observer_) std::exchange(observer_, nullptr)->on_complete();
  }
  void quiet_wait() noexcept {
    try {
      wait();
    } catch (...) {
      impl_.reset();
      completed();
    }
  }
  std::unique_ptr<RequestImpl, Release> impl_;
  RequestObserver* observer_ = nullptr;
};

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual std::string library_version() const = 0;

  // Point to point (bytes). Tags separate concurrent streams (gradients, samples, control). MPI's
  // matching rules hold for every implementation: messages from one rank to another with one tag are
  // non-overtaking (received in the order sent, by receives matched in the order posted); a receive
  // may be posted before or after its send; a receive's buffer may be larger than the message.
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
  // others cannot know about. Never returns (MPI ends the processes; the in-process communicator,
  // whose ranks are threads, throws std::runtime_error on the caller and fails every other rank).
  [[noreturn]] virtual void abort(int code) = 0;

  // A new communicator over the ranks that pass the same color, ordered as in this one. Collective
  // over all ranks of this communicator. Lets training ranks run collectives without the
  // parameter-server ranks.
  virtual std::unique_ptr<Communicator> split(int color) = 0;

  // Announces that the caller may keep up to n more requests outstanding at once. Implementations
  // that pool requests grow the pool now, so that later nonblocking calls allocate nothing.
  virtual void reserve_requests(std::size_t n) {}

  // Hands out the tags [base, base + n) and returns base: blocks follow one another in call order,
  // starting at kFirstReservedTag, so ranks that reserve in the same order (every algorithm does so in
  // its constructor) get the same blocks, and no two reserving users ever share a tag (gloo's slots).
  // Tags below kFirstReservedTag are left for ad-hoc use (tests, probes). Each communicator (a split
  // included) counts on its own. Throws std::runtime_error if the block would pass the largest tag the
  // transport allows (max_tag(); MPI_TAG_UB under MPI), std::invalid_argument if n < 0.
  static constexpr int kFirstReservedTag = 1024;
  int reserve_tags(int n) {
    if (n < 0) throw std::invalid_argument("reserve_tags: negative tag count " + std::to_string(n));
    if (n > 0 && next_tag_ - 1 > std::int64_t(max_tag()) - n)
      throw std::runtime_error("reserve_tags: a block of " + std::to_string(n) + " tags from " +
                               std::to_string(next_tag_) + " passes the largest tag the transport allows (" +
                               std::to_string(max_tag()) + "); too many tags reserved on this communicator");
    const int base = int(std::min<std::int64_t>(next_tag_, std::numeric_limits<int>::max()));  // n = 0 at the end
    next_tag_ += n;
    return base;
  }
  // The largest valid tag. MPI guarantees at least 32767 (MPI_TAG_UB).
  virtual int max_tag() const { return std::numeric_limits<int>::max(); }

  // Announces memory-bound host work the caller has just done: `bytes` read plus written by a copy,
  // average, correction, reduction, pack/unpack or optimizer update. Plain transports ignore it; a
  // metering communicator counts it and, on a simulated cluster, charges it at the node's memory
  // bandwidth (metered_communicator.hpp). Algorithms make every such pass through core/comm/charged_ops.hpp,
// which calls it with the bytes each pass reads and writes.
  virtual void account_memory(std::size_t bytes) {}

  // GPU staging. A metering communicator on a simulated GPU cluster charges a device->host copy of every
  // buffer posted for sending and a host->device copy of every buffer received (what CUDA-aware MPI
  // does without GPUDirect RDMA). A host-staged collective instead copies its buffer to the host once,
  // runs all of its messages on host memory and copies the result back once (Horovod's and MaTEx's
  // CPU path): it posts its messages on host_resident(), which is this transport with the same
  // metering but no staging charge, and announces its two copies with account_staging(bytes). Plain
  // transports stage nothing: host_resident() is the communicator itself and account_staging() a no-op.
  // The view shares this communicator's transport and meter, not its tag counter: reserve tags here.
  virtual Communicator& host_resident() { return *this; }
  virtual void account_staging(std::size_t bytes) {}

  // Seconds on a monotonic clock (MPI_Wtime under MPI, which is simulated time under SMPI).
  virtual double wtime() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
  }

 private:
  std::int64_t next_tag_ = kFirstReservedTag;  // reserve_tags(): start of the next block (may pass INT_MAX)
};

}  // namespace gg
