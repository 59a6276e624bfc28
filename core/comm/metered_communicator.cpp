#include "core/comm/metered_communicator.hpp"

#include <exception>
#include <type_traits>

namespace gg {

MeteredCommunicator::MeteredCommunicator(Communicator& inner, HostCosts costs)
    : inner_(inner),
      own_meter_(std::make_unique<CommMeter>([&inner] { return inner.wtime(); }, std::move(costs))),
      meter_(own_meter_.get()) {}

MeteredCommunicator::MeteredCommunicator(std::unique_ptr<Communicator> owned, CommMeter& shared)
    : owned_(std::move(owned)), inner_(*owned_), meter_(&shared) {}

MeteredCommunicator::MeteredCommunicator(Communicator& inner, CommMeter& shared, bool stages)
    : inner_(inner), meter_(&shared), stages_(stages) {}

Communicator& MeteredCommunicator::host_resident() {
  if (!stages_) return *this;
  if (!host_resident_) host_resident_.reset(new MeteredCommunicator(inner_, *meter_, false));
  return *host_resident_;
}

namespace {

// Times one call on the meter; call_end runs even when the call throws.
class CallScope {
 public:
  explicit CallScope(CommMeter& m) : m_(m) { m_.call_begin(); }
  ~CallScope() { m_.call_end(); }
  CallScope(const CallScope&) = delete;
  CallScope& operator=(const CallScope&) = delete;

 private:
  CommMeter& m_;
};

}  // namespace

template <class Fn>
auto MeteredCommunicator::blocking(Traffic t, Fn&& fn) {
  CallScope call(*meter_);
  meter_->stage(staged(t.stage_out));
  meter_->blocking_begin(t.sent, t.recv, t.msgs);
  struct End {
    CommMeter& m;
    ~End() { m.blocking_end(); }
  } end{*meter_};
  if constexpr (std::is_void_v<decltype(fn())>) {
    fn();
    meter_->stage(staged(t.stage_in));
  } else {
    auto r = fn();
    meter_->stage(staged(t.stage_in));
    return r;
  }
}

MeteredCommunicator::Traffic MeteredCommunicator::allreduce_traffic(std::size_t n) const {
  const std::uint64_t p = std::uint64_t(size());
  const std::uint64_t b = p > 1 ? 2 * (p - 1) * std::uint64_t(n) / p : 0;
  return {b, b, p > 1 ? 2 * (p - 1) : 0, n, n};
}

Request MeteredCommunicator::isend(const void* buf, std::size_t bytes, int dest, int tag) {
  CallScope call(*meter_);
  meter_->stage(staged(bytes));
  Request r = inner_.isend(buf, bytes, dest, tag);
  r.observe(meter_->posted(bytes, 0, 1, 0));
  return r;
}

Request MeteredCommunicator::irecv(void* buf, std::size_t bytes, int src, int tag) {
  CallScope call(*meter_);
  Request r = inner_.irecv(buf, bytes, src, tag);
  r.observe(meter_->posted(0, bytes, 0, staged(bytes)));
  return r;
}

void MeteredCommunicator::send(const void* buf, std::size_t bytes, int dest, int tag) {
  blocking({bytes, 0, 1, bytes, 0}, [&] { inner_.send(buf, bytes, dest, tag); });
}

void MeteredCommunicator::recv(void* buf, std::size_t bytes, int src, int tag) {
  blocking({0, bytes, 0, 0, bytes}, [&] { inner_.recv(buf, bytes, src, tag); });
}

int MeteredCommunicator::recv_any(void* buf, std::size_t bytes, int tag, std::size_t* got) {
  // Counted at the buffer's capacity (what a receive can take); *got is known only afterwards.
  return blocking({0, bytes, 0, 0, bytes}, [&] { return inner_.recv_any(buf, bytes, tag, got); });
}

void MeteredCommunicator::allreduce_sum(std::span<float> data) {
  blocking(allreduce_traffic(data.size_bytes()), [&] { inner_.allreduce_sum(data); });
}

void MeteredCommunicator::allreduce_sum(std::span<double> data) {
  blocking(allreduce_traffic(data.size_bytes()), [&] { inner_.allreduce_sum(data); });
}

Request MeteredCommunicator::iallreduce_sum(std::span<float> data) {
  CallScope call(*meter_);
  const Traffic t = allreduce_traffic(data.size_bytes());
  meter_->stage(staged(t.stage_out));
  Request r = inner_.iallreduce_sum(data);
  r.observe(meter_->posted(t.sent, t.recv, t.msgs, staged(t.stage_in)));  // the result is staged back at completion
  return r;
}

void MeteredCommunicator::broadcast(void* buf, std::size_t bytes, int root) {
  const bool me = rank() == root;
  const std::uint64_t others = std::uint64_t(size() - 1);
  blocking({me ? others * bytes : 0, me ? 0 : bytes, me ? others : 0, me ? bytes : 0, me ? 0 : bytes},
           [&] { inner_.broadcast(buf, bytes, root); });
}

void MeteredCommunicator::gather(const void* in, std::size_t bytes, void* out, int root) {
  const bool me = rank() == root;
  const std::uint64_t others = std::uint64_t(size() - 1);
  blocking({me ? 0 : bytes, me ? others * bytes : 0, me ? 0u : 1u, me ? 0 : bytes, me ? others * bytes : 0},
           [&] { inner_.gather(in, bytes, out, root); });
}

void MeteredCommunicator::barrier() {
  blocking({}, [&] { inner_.barrier(); });
}

void MeteredCommunicator::abort(int code) {
  inner_.abort(code);
  std::terminate();  // not reached: inner's abort never returns (the attribute is not seen through the call)
}

std::unique_ptr<Communicator> MeteredCommunicator::split(int color) {
  std::unique_ptr<Communicator> child = [&] {
    CallScope call(*meter_);
    return inner_.split(color);
  }();
  return std::unique_ptr<Communicator>(new MeteredCommunicator(std::move(child), *meter_));
}

void MeteredCommunicator::reserve_requests(std::size_t n) {
  inner_.reserve_requests(n);
  meter_->reserve(n);
}

}  // namespace gg
