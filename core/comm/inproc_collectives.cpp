// Collectives of the in-process communicator (inproc_communicator.hpp): matched by call order, done by
// the last rank to arrive, sums in rank order.
#include <cstring>
#include <stdexcept>

#include "core/comm/inproc_detail.hpp"

namespace gg::inproc {

const char* coll_name(CollKind k) {
  switch (k) {
    case CollKind::AllreduceFloat: return "allreduce_sum(float)";
    case CollKind::AllreduceDouble: return "allreduce_sum(double)";
    case CollKind::Broadcast: return "broadcast";
    case CollKind::Gather: return "gather";
    case CollKind::Barrier: return "barrier";
    case CollKind::Split: return "split";
  }
  return "?";
}

namespace {

// In place (in == out on every rank): rank 0's buffer accumulates x_0 + x_1 + ... + x_{p-1} in rank
// order, then the others get a copy. No scratch: nothing allocates.
template <class T>
void sum_in_rank_order(Coll& c) {
  const std::size_t n = c.count;
  if (n == 0) return;
  T* acc = static_cast<T*>(c.parts[0].out);
  for (std::size_t r = 1; r < c.parts.size(); ++r) {
    const T* x = static_cast<const T*>(c.parts[r].in);
    for (std::size_t i = 0; i < n; ++i) acc[i] += x[i];
  }
  for (std::size_t r = 1; r < c.parts.size(); ++r) std::memcpy(c.parts[r].out, acc, n * sizeof(T));
}

}  // namespace

Req* Comm::join(CollKind kind, const void* in, void* out, std::size_t count, std::size_t bytes, int root, int color,
                const char* op) {
  check_alive(op);
  const std::uint64_t seq = coll_seq_;
  Coll* c = nullptr;
  Coll* spare = nullptr;
  for (auto& slot : g_->colls) {
    if (slot->used && slot->seq == seq) {
      c = slot.get();
      break;
    }
    if (!slot->used && !spare) spare = slot.get();
  }
  if (!c) {  // the first rank to reach this collective
    if (!spare) {  // more collectives in flight than reserved
      g_->add_slots(1);
      spare = g_->colls.back().get();
    }
    c = spare;
    c->used = true;
    c->seq = seq;
    c->kind = kind;
    c->count = count;
    c->root = root;
    c->arrived = 0;
    c->parts.assign(std::size_t(size()), Part{});  // sized already: no allocation
  } else if (c->kind != kind || c->count != count || c->root != root) {
    const std::string why = "collective mismatch: rank " + std::to_string(rank_) + " called " + op + " (" +
                            std::to_string(count) + " elements, root " + std::to_string(root) +
                            ") where another rank called " + coll_name(c->kind) + " (" + std::to_string(c->count) +
                            " elements, root " + std::to_string(c->root) + "), collective #" + std::to_string(seq);
    fail_locked(why);
    throw std::runtime_error("in-process " + why);
  }
  ++coll_seq_;
  Req* r = acquire(ReqKind::Collective, op, root, -1, bytes);
  r->coll = c;
  c->parts[std::size_t(rank_)] = Part{r, in, out, color};
  if (++c->arrived == size()) complete(*c);
  return r;
}

void Comm::complete(Coll& c) {
  const std::size_t p = c.parts.size();
  switch (c.kind) {
    case CollKind::AllreduceFloat: sum_in_rank_order<float>(c); break;
    case CollKind::AllreduceDouble: sum_in_rank_order<double>(c); break;
    case CollKind::Broadcast:
      for (std::size_t r = 0; r < p; ++r)
        if (int(r) != c.root && c.count) std::memcpy(c.parts[r].out, c.parts[std::size_t(c.root)].in, c.count);
      break;
    case CollKind::Gather: {
      char* out = static_cast<char*>(c.parts[std::size_t(c.root)].out);
      for (std::size_t r = 0; r < p; ++r)
        if (c.count) std::memmove(out + r * c.count, c.parts[r].in, c.count);
      break;
    }
    case CollKind::Barrier: break;
    case CollKind::Split: {  // one group per color; members ordered by their rank here
      std::vector<char> grouped(p, 0);
      for (std::size_t first = 0; first < p; ++first) {
        if (grouped[first]) continue;
        std::vector<std::size_t> members;
        for (std::size_t r = first; r < p; ++r)
          if (!grouped[r] && c.parts[r].color == c.parts[first].color) {
            grouped[r] = 1;
            members.push_back(r);
          }
        std::vector<int> world;
        for (std::size_t m : members) world.push_back(g_->world[m]);
        auto group = std::make_shared<Group>(g_->shared, std::move(world));
        for (std::size_t k = 0; k < members.size(); ++k)
          if (Req* q = c.parts[members[k]].req) {
            q->split_group = group;
            q->split_rank = int(k);
          }
      }
      break;
    }
  }
  for (Part& part : c.parts)
    if (part.req) {
      part.req->done = true;
      part.req->coll = nullptr;
    }
  c.used = false;
  sh_.cv.notify_all();
}

Request Comm::start(CollKind kind, const void* in, void* out, std::size_t count, std::size_t bytes, int root,
                    const char* op) {
  Req* r = nullptr;
  {
    std::unique_lock lock(sh_.mu);
    r = join(kind, in, out, count, bytes, root, 0, op);
  }
  return Request::adopt(r);
}

void Comm::allreduce_sum(std::span<float> d) {
  start(CollKind::AllreduceFloat, d.data(), d.data(), d.size(), d.size_bytes(), -1, "allreduce_sum").wait();
}

void Comm::allreduce_sum(std::span<double> d) {
  start(CollKind::AllreduceDouble, d.data(), d.data(), d.size(), d.size_bytes(), -1, "allreduce_sum").wait();
}

Request Comm::iallreduce_sum(std::span<float> d) {
  return start(CollKind::AllreduceFloat, d.data(), d.data(), d.size(), d.size_bytes(), -1, "iallreduce_sum");
}

void Comm::broadcast(void* buf, std::size_t bytes, int root) {
  check_rank(root, "broadcast", "root");
  start(CollKind::Broadcast, buf, buf, bytes, bytes, root, "broadcast").wait();
}

void Comm::gather(const void* in, std::size_t bytes, void* out, int root) {
  check_rank(root, "gather", "root");
  start(CollKind::Gather, in, out, bytes, bytes, root, "gather").wait();
}

void Comm::barrier() { start(CollKind::Barrier, nullptr, nullptr, 0, 0, -1, "barrier").wait(); }

std::unique_ptr<Communicator> Comm::split(int color) {
  if (color < 0) throw std::invalid_argument("in-process split: color must be >= 0, got " + std::to_string(color));
  std::shared_ptr<Group> group;
  int rank = -1;
  Req* r = nullptr;
  {
    std::unique_lock lock(sh_.mu);
    r = join(CollKind::Split, nullptr, nullptr, 0, 0, -1, color, "split");
  }
  Request h = Request::adopt(r);
  {
    std::unique_lock lock(sh_.mu);
    wait_locked(*r, lock);
    group = std::move(r->split_group);
    rank = r->split_rank;
  }
  h.wait();
  return std::make_unique<Comm>(std::move(group), rank);
}

}  // namespace gg::inproc
