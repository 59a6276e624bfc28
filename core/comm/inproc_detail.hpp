#pragma once
// Internals of the in-process communicator (inproc_communicator.hpp); only its .cpp files include
// this. Everything below is guarded by Shared::mu, the request pools included.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/comm/communicator.hpp"

namespace gg::inproc {

using Clock = std::chrono::steady_clock;
class Req;

// One per world; every communicator split from it shares it (the ranks are the same threads).
struct Shared {
  Shared(int p, Clock::duration timeout) : timeout(timeout), waiting(std::size_t(p), nullptr), finished(std::size_t(p), 0) {}
  std::mutex mu;
  std::condition_variable cv;  // notified on every completion and on failure
  bool failed = false;
  std::string why;             // the first failure's cause
  Clock::duration timeout;
  std::vector<const Req*> waiting;      // [world rank] the request the rank is blocked on, or null
  std::vector<char> finished;           // [world rank] its run() function returned
};

// An intrusive FIFO of requests (through Req::prev/next): linking never allocates.
struct ReqList {
  Req* head = nullptr;
  Req* tail = nullptr;
  void push_back(Req* r);
  void erase(Req* r);
};

// One per destination rank. `unmatched` holds, in the order sent, the sends to this rank that no
// receive has taken yet (their data still in the sender's buffer); `posted` the receives of
// this rank that no send has matched yet, in the order posted. A send never waits in `unmatched` while
// a receive it matches waits in `posted`: each new arrival is matched against the other list first.
struct Mailbox {
  ReqList unmatched;
  ReqList posted;
};

enum class CollKind { AllreduceFloat, AllreduceDouble, Broadcast, Gather, Barrier, Split };
const char* coll_name(CollKind k);

struct Part {  // one rank's contribution to a collective
  Req* req = nullptr;
  const void* in = nullptr;
  void* out = nullptr;
  int color = 0;
};

struct Coll {  // the seq-th collective of a group, until every rank has arrived
  bool used = false;
  std::uint64_t seq = 0;
  CollKind kind = CollKind::Barrier;
  std::size_t count = 0;  // elements (bytes for broadcast and gather)
  int root = 0;
  int arrived = 0;
  std::vector<Part> parts;  // [rank]
};

// The state of one communicator (the world or a split), shared by its ranks.
struct Group {
  Group(std::shared_ptr<Shared> s, std::vector<int> world_ranks)
      : shared(std::move(s)), world(std::move(world_ranks)), boxes(world.size()) {
    add_slots(kFirstSlots);
  }
  // Blocking collectives keep at most one slot busy (two around its completion): with these, a
  // communicator's first collectives allocate nothing; reserve_requests() adds more for nonblocking ones.
  static constexpr std::size_t kFirstSlots = 2;
  void add_slots(std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
      colls.push_back(std::make_unique<Coll>());
      colls.back()->parts.resize(world.size());
    }
  }
  std::shared_ptr<Shared> shared;
  std::vector<int> world;  // [rank] the world rank (thread) of each member
  std::vector<Mailbox> boxes;                // [destination rank]
  std::vector<std::unique_ptr<Coll>> colls;  // collective slots, in use or free (stable addresses)
};

class Comm;
enum class ReqKind { Send, Recv, Collective };

// One nonblocking operation; pooled by its Comm.
class Req final : public RequestImpl {
 public:
  explicit Req(Comm* owner) : owner(owner) {}
  bool test() override;
  void wait() override;
  void release() override;
  std::string describe() const;  // e.g. "recv from rank 1 (tag 5, 40 bytes)"

  Comm* owner;
  Req* prev = nullptr;     // links in a Mailbox list
  Req* next = nullptr;
  ReqList* list = nullptr;  // the list it is linked in, or null
  ReqKind kind = ReqKind::Send;
  const char* op = "";
  int peer = -1, tag = -1;  // peer: destination, source (-1: any) or root (-1: none)
  std::size_t bytes = 0;
  Clock::time_point since;
  bool done = false;
  Coll* coll = nullptr;    // registered in a collective not yet complete
  // sends
  const void* data = nullptr;  // the message, in the caller's buffer
  // receives
  void* buf = nullptr;
  int src = -1;            // -1: any source
  std::size_t got = 0, too_long = 0;  // too_long: size of a message that did not fit (an error)
  int from = -1;
  // split
  std::shared_ptr<Group> split_group;
  int split_rank = -1;
};

class Comm final : public Communicator {
 public:
  Comm(std::shared_ptr<Group> group, int rank);
  ~Comm() override;
  Comm(const Comm&) = delete;
  Comm& operator=(const Comm&) = delete;

  int rank() const override { return rank_; }
  int size() const override { return int(g_->world.size()); }
  std::string library_version() const override { return "in-process (threads)"; }

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
  void reserve_requests(std::size_t n) override;

  // For Req (all with the lock held).
  Shared& shared() { return sh_; }
  void wait_locked(Req& r, std::unique_lock<std::mutex>& lock);
  bool test_locked(Req& r);
  void detach_locked(Req& r);
  void give_back(Req* r) { free_.push_back(r); }
  // A receive takes this send (lock held): copies it into recv, completes both.
  static void match(Req& send, Req& recv);

 private:
  Req* acquire(ReqKind kind, const char* op, int peer, int tag, std::size_t bytes);
  std::string where(const Req& r) const;  // "in-process rank 2 of 4: recv from rank 1 (...)"
  void finish_locked(Req& r) const;       // throws if the received message did not fit
  void grow_pool();
  void check_alive(const char* op) const;  // throws if the world failed
  void check_rank(int r, const char* op, const char* what) const;
  // Checks the arguments, takes the lock, and posts a receive (src < 0: from any source).
  Req* post_recv(void* buf, std::size_t bytes, int src, int tag, const char* op);
  Req* post_send(const void* buf, std::size_t bytes, int dest, int tag, const char* op);
  // Adds this rank to its next collective (lock held); the last rank to arrive completes it.
  Req* join(CollKind kind, const void* in, void* out, std::size_t count, std::size_t bytes, int root, int color,
            const char* op);
  Request start(CollKind kind, const void* in, void* out, std::size_t count, std::size_t bytes, int root,
                const char* op);
  void complete(Coll& c);
  void fail_locked(const std::string& why);

  std::shared_ptr<Group> g_;
  Shared& sh_;
  int rank_, world_rank_;
  std::uint64_t coll_seq_ = 0;             // collectives started on this communicator
  // Requests: blocking calls use one at a time, so these few make them allocation-free from the start.
  static constexpr std::size_t kFirstRequests = 4;
  std::vector<std::unique_ptr<Req>> pool_;
  std::vector<Req*> free_;                 // capacity >= pool_.size(): give_back never allocates
  std::size_t reserved_ = 0;
};

// True when every rank that has not finished is blocked on a request nobody can complete.
bool deadlocked(const Shared& sh);
std::string deadlock_report(const Shared& sh);
// Marks the world failed (first cause kept) and wakes every waiter. Lock held.
void fail_world(Shared& sh, const std::string& why);

}  // namespace gg::inproc
