#include "core/comm/mpi_communicator.hpp"

#include <algorithm>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "core/sim/request_test.hpp"

namespace gg {

namespace {

// Largest count passed to one MPI call: far below INT_MAX, so byte and element counts both fit.
constexpr std::size_t kMaxCount = std::size_t(1) << 30;

[[noreturn]] void fail(int rc, const char* op, int peer, std::size_t bytes) {
  char msg[MPI_MAX_ERROR_STRING] = {};
  int len = 0;
  if (MPI_Error_string(rc, msg, &len) != MPI_SUCCESS) len = 0;
  std::string what = std::string(op) + " failed";
  if (peer >= 0) what += " (peer rank " + std::to_string(peer) + ")";
  what += " on " + std::to_string(bytes) + " bytes: " + std::string(msg, std::size_t(len)) + " [code " +
          std::to_string(rc) + "]";
  throw std::runtime_error("MPI: " + what);
}

inline void check(int rc, const char* op, int peer = -1, std::size_t bytes = 0) {
  if (rc != MPI_SUCCESS) fail(rc, op, peer, bytes);
}

std::size_t chunks(std::size_t count) { return std::max<std::size_t>(1, (count + kMaxCount - 1) / kMaxCount); }

// A blocking call: as is, or, with a watchdog, as its nonblocking twin completed by the watchdog.
template <class Blocking, class Start>
int blocking(StallWatchdog* watchdog, MPI_Comm comm, const char* op, int peer, MPI_Status* status, Blocking call,
             Start start) {
  if (!watchdog) return call();
  MPI_Request r = MPI_REQUEST_NULL;
  const int rc = start(&r);
  return rc != MPI_SUCCESS ? rc : watchdog->wait(1, &r, status, op, comm, peer);
}

}  // namespace

// One nonblocking operation: one MPI_Request per chunk. Pooled by its communicator.
class MpiCommunicator::Req final : public RequestImpl {
 public:
  explicit Req(MpiCommunicator* owner) : owner_(owner) { reqs.reserve(1); }
  bool test() override {
    int done = 0;
    const int rc = test_requests(int(reqs.size()), reqs.data(), &done);  // MPI_Testall (SMPI: see there)
    if (rc != MPI_SUCCESS) fail_here(rc, "MPI_Test");
    return done != 0;
  }
  void wait() override {
    const int rc = owner_->watchdog_
                       ? owner_->watchdog_->wait(int(reqs.size()), reqs.data(), MPI_STATUSES_IGNORE, op, owner_->comm_, peer)
                       : MPI_Waitall(int(reqs.size()), reqs.data(), MPI_STATUSES_IGNORE);
    if (rc != MPI_SUCCESS) fail_here(rc, "MPI_Wait");
  }
  void release() override {
    reqs.clear();  // keeps capacity
    owner_->free_.push_back(this);
  }

  std::vector<MPI_Request> reqs;
  const char* op = "";
  int peer = -1;
  std::size_t bytes = 0;

 private:
  [[noreturn]] void fail_here(int rc, const char* how) {
    const std::string what = std::string(how) + " of " + op;
    reqs.clear();
    fail(rc, what.c_str(), peer, bytes);
  }
  MpiCommunicator* owner_;
};

MpiCommunicator::MpiCommunicator() {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) throw std::logic_error("MpiCommunicator: MPI is not initialised (create an MpiSession first)");
  check(MPI_Comm_dup(MPI_COMM_WORLD, &comm_), "MPI_Comm_dup");
  init();
}

MpiCommunicator::MpiCommunicator(MPI_Comm owned) : comm_(owned) { init(); }

void MpiCommunicator::init() {
  check(MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
  check(MPI_Comm_rank(comm_, &rank_), "MPI_Comm_rank");
  check(MPI_Comm_size(comm_, &size_), "MPI_Comm_size");
  void* ub = nullptr;
  int found = 0;
  check(MPI_Comm_get_attr(comm_, MPI_TAG_UB, &ub, &found), "MPI_Comm_get_attr(MPI_TAG_UB)");
  if (found && ub) tag_ub_ = *static_cast<int*>(ub);
  free_.reserve(16);
}

MpiCommunicator::~MpiCommunicator() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized && comm_ != MPI_COMM_NULL) MPI_Comm_free(&comm_);
}

void MpiCommunicator::grow_pool() {
  pool_.push_back(std::make_unique<Req>(this));
  free_.reserve(pool_.size());
  free_.push_back(pool_.back().get());
}

void MpiCommunicator::reserve_requests(std::size_t n) {
  reserved_ += n;
  while (pool_.size() < reserved_) grow_pool();
}

MpiCommunicator::Req* MpiCommunicator::acquire(const char* op, int peer, std::size_t bytes) {
  if (free_.empty()) grow_pool();  // more outstanding than reserved: grow by one
  Req* r = free_.back();
  free_.pop_back();
  r->op = op;
  r->peer = peer;
  r->bytes = bytes;
  return r;
}

std::string MpiCommunicator::library_version() const {
  char buf[MPI_MAX_LIBRARY_VERSION_STRING] = {};
  int len = 0;
  check(MPI_Get_library_version(buf, &len), "MPI_Get_library_version");
  std::string s(buf, std::size_t(std::max(0, len)));
  s = s.substr(0, s.find_first_of("\n\r,"));  // first line / clause is enough for a log attribute
  while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) s.pop_back();
  return s;
}

Request MpiCommunicator::isend(const void* buf, std::size_t bytes, int dest, int tag) {
  Req* r = acquire("MPI_Isend", dest, bytes);
  Request handle = Request::adopt(r);  // from here on, an exception returns r to the pool
  const char* p = static_cast<const char*>(buf);
  for (std::size_t c = 0, n = chunks(bytes); c < n; ++c) {
    const std::size_t off = c * kMaxCount, len = std::min(kMaxCount, bytes - off);
    r->reqs.emplace_back();
    check(MPI_Isend(p + off, int(len), MPI_BYTE, dest, tag, comm_, &r->reqs.back()), "MPI_Isend", dest, bytes);
  }
  return handle;
}

Request MpiCommunicator::irecv(void* buf, std::size_t bytes, int src, int tag) {
  Req* r = acquire("MPI_Irecv", src, bytes);
  Request handle = Request::adopt(r);
  char* p = static_cast<char*>(buf);
  for (std::size_t c = 0, n = chunks(bytes); c < n; ++c) {
    const std::size_t off = c * kMaxCount, len = std::min(kMaxCount, bytes - off);
    r->reqs.emplace_back();
    check(MPI_Irecv(p + off, int(len), MPI_BYTE, src, tag, comm_, &r->reqs.back()), "MPI_Irecv", src, bytes);
  }
  return handle;
}

void MpiCommunicator::send(const void* buf, std::size_t bytes, int dest, int tag) {
  const char* p = static_cast<const char*>(buf);
  for (std::size_t c = 0, n = chunks(bytes); c < n; ++c) {
    const std::size_t off = c * kMaxCount, len = std::min(kMaxCount, bytes - off);
    check(blocking(
              watchdog_, comm_, "MPI_Send", dest, MPI_STATUSES_IGNORE,
              [&] { return MPI_Send(p + off, int(len), MPI_BYTE, dest, tag, comm_); },
              [&](MPI_Request* r) { return MPI_Isend(p + off, int(len), MPI_BYTE, dest, tag, comm_, r); }),
          "MPI_Send", dest, bytes);
  }
}

void MpiCommunicator::recv(void* buf, std::size_t bytes, int src, int tag) {
  char* p = static_cast<char*>(buf);
  for (std::size_t c = 0, n = chunks(bytes); c < n; ++c) {
    const std::size_t off = c * kMaxCount, len = std::min(kMaxCount, bytes - off);
    check(blocking(
              watchdog_, comm_, "MPI_Recv", src, MPI_STATUSES_IGNORE,
              [&] { return MPI_Recv(p + off, int(len), MPI_BYTE, src, tag, comm_, MPI_STATUS_IGNORE); },
              [&](MPI_Request* r) { return MPI_Irecv(p + off, int(len), MPI_BYTE, src, tag, comm_, r); }),
          "MPI_Recv", src, bytes);
  }
}

int MpiCommunicator::recv_any(void* buf, std::size_t bytes, int tag, std::size_t* got) {
  if (bytes > kMaxCount) throw std::invalid_argument("recv_any: at most 2^30 bytes per message");
  MPI_Status st;
  check(blocking(
            watchdog_, comm_, "MPI_Recv(any source)", -1, &st,
            [&] { return MPI_Recv(buf, int(bytes), MPI_BYTE, MPI_ANY_SOURCE, tag, comm_, &st); },
            [&](MPI_Request* r) { return MPI_Irecv(buf, int(bytes), MPI_BYTE, MPI_ANY_SOURCE, tag, comm_, r); }),
        "MPI_Recv(any source)", -1, bytes);
  int count = 0;
  check(MPI_Get_count(&st, MPI_BYTE, &count), "MPI_Get_count");
  if (got) *got = std::size_t(count);
  return st.MPI_SOURCE;
}

void MpiCommunicator::allreduce_sum(std::span<float> data) {
  for (std::size_t c = 0, n = chunks(data.size()); c < n; ++c) {
    const std::size_t off = c * kMaxCount, len = std::min(kMaxCount, data.size() - off);
    check(blocking(
              watchdog_, comm_, "MPI_Allreduce", -1, MPI_STATUSES_IGNORE,
              [&] { return MPI_Allreduce(MPI_IN_PLACE, data.data() + off, int(len), MPI_FLOAT, MPI_SUM, comm_); },
              [&](MPI_Request* r) {
                return MPI_Iallreduce(MPI_IN_PLACE, data.data() + off, int(len), MPI_FLOAT, MPI_SUM, comm_, r);
              }),
          "MPI_Allreduce", -1, data.size_bytes());
  }
}

void MpiCommunicator::allreduce_sum(std::span<double> data) {
  for (std::size_t c = 0, n = chunks(data.size()); c < n; ++c) {
    const std::size_t off = c * kMaxCount, len = std::min(kMaxCount, data.size() - off);
    check(blocking(
              watchdog_, comm_, "MPI_Allreduce", -1, MPI_STATUSES_IGNORE,
              [&] { return MPI_Allreduce(MPI_IN_PLACE, data.data() + off, int(len), MPI_DOUBLE, MPI_SUM, comm_); },
              [&](MPI_Request* r) {
                return MPI_Iallreduce(MPI_IN_PLACE, data.data() + off, int(len), MPI_DOUBLE, MPI_SUM, comm_, r);
              }),
          "MPI_Allreduce", -1, data.size_bytes());
  }
}

Request MpiCommunicator::iallreduce_sum(std::span<float> data) {
  Req* r = acquire("MPI_Iallreduce", -1, data.size_bytes());
  Request handle = Request::adopt(r);
  for (std::size_t c = 0, n = chunks(data.size()); c < n; ++c) {
    const std::size_t off = c * kMaxCount, len = std::min(kMaxCount, data.size() - off);
    r->reqs.emplace_back();
    check(MPI_Iallreduce(MPI_IN_PLACE, data.data() + off, int(len), MPI_FLOAT, MPI_SUM, comm_, &r->reqs.back()),
          "MPI_Iallreduce", -1, data.size_bytes());
  }
  return handle;
}

void MpiCommunicator::broadcast(void* buf, std::size_t bytes, int root) {
  char* p = static_cast<char*>(buf);
  for (std::size_t c = 0, n = chunks(bytes); c < n; ++c) {
    const std::size_t off = c * kMaxCount, len = std::min(kMaxCount, bytes - off);
    check(blocking(
              watchdog_, comm_, "MPI_Bcast", root, MPI_STATUSES_IGNORE,
              [&] { return MPI_Bcast(p + off, int(len), MPI_BYTE, root, comm_); },
              [&](MPI_Request* r) { return MPI_Ibcast(p + off, int(len), MPI_BYTE, root, comm_, r); }),
          "MPI_Bcast", root, bytes);
  }
}

void MpiCommunicator::gather(const void* in, std::size_t bytes, void* out, int root) {
  if (bytes > kMaxCount) throw std::invalid_argument("gather: at most 2^30 bytes per rank");
  check(blocking(
            watchdog_, comm_, "MPI_Gather", root, MPI_STATUSES_IGNORE,
            [&] { return MPI_Gather(in, int(bytes), MPI_BYTE, out, int(bytes), MPI_BYTE, root, comm_); },
            [&](MPI_Request* r) { return MPI_Igather(in, int(bytes), MPI_BYTE, out, int(bytes), MPI_BYTE, root, comm_, r); }),
        "MPI_Gather", root, bytes);
}

void MpiCommunicator::barrier() {
  check(blocking(
            watchdog_, comm_, "MPI_Barrier", -1, MPI_STATUSES_IGNORE, [&] { return MPI_Barrier(comm_); },
            [&](MPI_Request* r) { return MPI_Ibarrier(comm_, r); }),
        "MPI_Barrier");
}

std::unique_ptr<Communicator> MpiCommunicator::split(int color) {
  if (color < 0) throw std::invalid_argument("split: color must be >= 0");
  MPI_Comm sub = MPI_COMM_NULL;
  check(MPI_Comm_split(comm_, color, rank_, &sub), "MPI_Comm_split");
  auto out = std::unique_ptr<MpiCommunicator>(new MpiCommunicator(sub));
  out->watch(watchdog_);  // a split is watched as its parent is
  return out;
}

void MpiCommunicator::abort(int code) {
  MPI_Abort(comm_, code);
  std::abort();  // MPI_Abort should not return; make sure
}

}  // namespace gg
