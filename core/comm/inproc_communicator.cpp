// The in-process communicator's requests and point-to-point messages (collectives:
// inproc_collectives.cpp; the world and its failure handling: inproc_world.cpp).
#include <cstring>
#include <stdexcept>
#include <thread>

#include "core/comm/inproc_detail.hpp"

namespace gg::inproc {

namespace {

std::string seconds(Clock::duration d) {
  return std::to_string(std::chrono::duration<double>(d).count()) + " s";
}

// The first (oldest) request of `list` that `match` accepts.
template <class Match>
Req* first_match(const ReqList& list, Match&& match) {
  for (Req* r = list.head; r; r = r->next)
    if (match(*r)) return r;
  return nullptr;
}

}  // namespace

void ReqList::push_back(Req* r) {
  r->prev = tail;
  r->next = nullptr;
  (tail ? tail->next : head) = r;
  tail = r;
  r->list = this;
}

void ReqList::erase(Req* r) {
  (r->prev ? r->prev->next : head) = r->next;
  (r->next ? r->next->prev : tail) = r->prev;
  r->prev = r->next = nullptr;
  r->list = nullptr;
}

void Comm::match(Req& send, Req& recv) {
  recv.from = send.owner->rank();
  if (send.bytes > recv.bytes) {
    recv.too_long = send.bytes;
  } else {
    if (send.bytes) std::memcpy(recv.buf, send.data, send.bytes);
    recv.got = send.bytes;
  }
  recv.done = send.done = true;
  send.owner->sh_.cv.notify_all();
}

std::string Req::describe() const {
  std::string s = op;
  switch (kind) {
    case ReqKind::Send: s += " to rank " + std::to_string(peer); break;
    case ReqKind::Recv: s += peer < 0 ? " from any rank" : " from rank " + std::to_string(peer); break;
    case ReqKind::Collective:
      if (peer >= 0) s += " (root " + std::to_string(peer) + ")";
      return s + " of " + std::to_string(bytes) + " bytes";
  }
  return s + " (tag " + std::to_string(tag) + ", " + std::to_string(bytes) + " bytes)";
}

bool Req::test() {
  bool done_now = false;
  {
    std::unique_lock lock(owner->shared().mu);
    done_now = owner->test_locked(*this);
  }
  if (!done_now) std::this_thread::yield();  // spin loops on test() let the other ranks run
  return done_now;
}

void Req::wait() {
  std::unique_lock lock(owner->shared().mu);
  owner->wait_locked(*this, lock);
}

void Req::release() {
  std::unique_lock lock(owner->shared().mu);
  owner->detach_locked(*this);
  owner->give_back(this);
}

// ---- Comm: requests and waiting ----

Comm::Comm(std::shared_ptr<Group> group, int rank)
    : g_(std::move(group)), sh_(*g_->shared), rank_(rank), world_rank_(g_->world[std::size_t(rank)]) {
  free_.reserve(16);
  while (pool_.size() < kFirstRequests) grow_pool();  // not yet shared: no lock needed
}

Comm::~Comm() {
  std::unique_lock lock(sh_.mu);
  for (auto& r : pool_) detach_locked(*r);  // only after a failure can one still be registered
}

void Comm::grow_pool() {
  pool_.push_back(std::make_unique<Req>(this));
  free_.reserve(pool_.size());
  free_.push_back(pool_.back().get());
}

void Comm::reserve_requests(std::size_t n) {
  std::unique_lock lock(sh_.mu);
  reserved_ += n;
  while (pool_.size() < reserved_) grow_pool();
  g_->add_slots(n);  // up to n of them may be collectives this rank has joined and others not yet
}

Req* Comm::acquire(ReqKind kind, const char* op, int peer, int tag, std::size_t bytes) {
  if (free_.empty()) grow_pool();  // more outstanding than reserved: grow by one
  Req* r = free_.back();
  free_.pop_back();
  r->kind = kind;
  r->op = op;
  r->peer = peer;
  r->tag = tag;
  r->bytes = bytes;
  r->since = Clock::now();
  r->done = false;
  r->coll = nullptr;
  r->data = nullptr;
  r->buf = nullptr;
  r->src = -1;
  r->got = r->too_long = 0;
  r->from = -1;
  return r;
}

void Comm::detach_locked(Req& r) {
  if (r.list) r.list->erase(&r);
  if (r.coll) {
    for (Part& part : r.coll->parts)
      if (part.req == &r) part.req = nullptr;
    r.coll = nullptr;
  }
  r.split_group.reset();
}

std::string Comm::where(const Req& r) const {
  return "in-process rank " + std::to_string(rank_) + " of " + std::to_string(size()) + ": " + r.describe();
}

void Comm::fail_locked(const std::string& why) { fail_world(sh_, why); }

void Comm::check_alive(const char* op) const {
  if (sh_.failed)
    throw std::runtime_error("in-process rank " + std::to_string(rank_) + ": " + op +
                             " refused: the world failed: " + sh_.why);
}

void Comm::check_rank(int r, const char* op, const char* what) const {
  if (r < 0 || r >= size())
    throw std::invalid_argument("in-process " + std::string(op) + ": " + what + " rank " + std::to_string(r) +
                                " is outside [0, " + std::to_string(size()) + ")");
}

void Comm::finish_locked(Req& r) const {
  if (r.too_long)
    throw std::runtime_error(where(r) + ": the message of " + std::to_string(r.too_long) + " bytes from rank " +
                             std::to_string(r.from) + " does not fit the receive buffer of " +
                             std::to_string(r.bytes) + " bytes");
}

bool Comm::test_locked(Req& r) {
  if (r.done) {
    finish_locked(r);
    return true;
  }
  if (sh_.failed) throw std::runtime_error(where(r) + " stopped: the world failed: " + sh_.why);
  if (Clock::now() - r.since > sh_.timeout) {
    const std::string why = where(r) + " was still incomplete after " + seconds(sh_.timeout) + " (deadlock?)";
    fail_locked(why);
    throw std::runtime_error(why);
  }
  return false;
}

void Comm::wait_locked(Req& r, std::unique_lock<std::mutex>& lock) {
  if (!r.done) {
    struct Waiting {  // registers the wait for deadlock detection, also when it throws
      Shared& sh;
      std::size_t me;
      ~Waiting() { sh.waiting[me] = nullptr; }
    } waiting{sh_, std::size_t(world_rank_)};
    sh_.waiting[waiting.me] = &r;
    const auto deadline = Clock::now() + sh_.timeout;
    while (!r.done) {
      if (sh_.failed) throw std::runtime_error(where(r) + " stopped: the world failed: " + sh_.why);
      if (deadlocked(sh_)) {
        fail_locked(deadlock_report(sh_));
        throw std::runtime_error(where(r) + ": " + sh_.why);
      }
      if (sh_.cv.wait_until(lock, deadline) == std::cv_status::timeout && !r.done) {
        const std::string why = where(r) + " waited more than " + seconds(sh_.timeout) + " (deadlock?)";
        fail_locked(why);
        throw std::runtime_error(why);
      }
    }
  }
  finish_locked(r);
}

// ---- point to point ----

Req* Comm::post_send(const void* buf, std::size_t bytes, int dest, int tag, const char* op) {
  check_rank(dest, op, "destination");
  if (tag < 0) throw std::invalid_argument(std::string("in-process ") + op + ": negative tag " + std::to_string(tag));
  check_alive(op);
  Req* r = acquire(ReqKind::Send, op, dest, tag, bytes);
  r->data = buf;
  Mailbox& box = g_->boxes[std::size_t(dest)];
  if (Req* q = first_match(box.posted, [&](const Req& x) { return x.tag == tag && (x.src < 0 || x.src == rank_); })) {
    box.posted.erase(q);  // a receive waits: straight into its buffer
    match(*r, *q);
  } else {  // matched when the destination posts its receive; the caller's buffer stays untouched
    box.unmatched.push_back(r);
  }
  return r;
}

Request Comm::isend(const void* buf, std::size_t bytes, int dest, int tag) {
  Req* r = nullptr;
  {
    std::unique_lock lock(sh_.mu);
    r = post_send(buf, bytes, dest, tag, "isend");
  }
  return Request::adopt(r);
}

void Comm::send(const void* buf, std::size_t bytes, int dest, int tag) {
  Req* r = nullptr;
  {
    std::unique_lock lock(sh_.mu);
    r = post_send(buf, bytes, dest, tag, "send");
  }
  Request(Request::adopt(r)).wait();  // synchronous: returns once a receive has taken the message
}

Req* Comm::post_recv(void* buf, std::size_t bytes, int src, int tag, const char* op) {
  if (src >= 0) check_rank(src, op, "source");  // src < 0: any source (recv_any)
  if (tag < 0) throw std::invalid_argument("in-process " + std::string(op) + ": negative tag " + std::to_string(tag));
  std::unique_lock lock(sh_.mu);
  check_alive(op);
  Req* r = acquire(ReqKind::Recv, op, src, tag, bytes);
  r->buf = buf;
  r->src = src;
  Mailbox& box = g_->boxes[std::size_t(rank_)];
  if (Req* q = first_match(box.unmatched, [&](const Req& x) { return x.tag == tag && (src < 0 || x.owner->rank() == src); })) {
    box.unmatched.erase(q);  // the oldest send it matches
    match(*q, *r);
  } else {
    box.posted.push_back(r);
  }
  return r;
}

Request Comm::irecv(void* buf, std::size_t bytes, int src, int tag) {
  if (src < 0) check_rank(src, "irecv", "source");  // post_recv would take it for "any source"
  return Request::adopt(post_recv(buf, bytes, src, tag, "irecv"));
}

void Comm::recv(void* buf, std::size_t bytes, int src, int tag) {
  if (src < 0) check_rank(src, "recv", "source");
  Request::adopt(post_recv(buf, bytes, src, tag, "recv")).wait();
}

int Comm::recv_any(void* buf, std::size_t bytes, int tag, std::size_t* got) {
  Req* r = post_recv(buf, bytes, -1, tag, "recv_any");
  Request h = Request::adopt(r);
  int from = -1;
  {
    std::unique_lock lock(sh_.mu);
    wait_locked(*r, lock);
    from = r->from;
    if (got) *got = r->got;
  }
  return from;
}

void Comm::abort(int code) {
  const std::string why = "rank " + std::to_string(rank_) + " called abort(" + std::to_string(code) + ")";
  {
    std::unique_lock lock(sh_.mu);
    fail_locked(why);
  }
  throw std::runtime_error("in-process " + why + ": the world failed (in-process abort throws instead of exiting)");
}

}  // namespace gg::inproc
