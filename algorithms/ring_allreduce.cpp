#include "algorithms/ring_allreduce.hpp"
#include "core/comm/charged_ops.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace gg {

RingAllreduce::RingAllreduce(Communicator& comm, int tag)
    : comm_(comm), net_(comm.host_resident()), tag_(tag), rank_(comm.rank()), p_(comm.size()) {}

RingAllreduce::~RingAllreduce() {
  // A Request still pointing here would release a dead object: finish the messages at least.
  send_ = Request();
  recv_ = Request();
}

void RingAllreduce::plan(std::size_t count) {
  if (in_flight_) throw std::logic_error("ring allreduce: plan() while an operation is in flight");
  rounds_.clear();
  tmp_.clear();
  count_ = count;
  planned_ = true;
  if (p_ < 2) return;
  if ((p_ & (p_ - 1)) == 0 && count >= std::size_t(p_)) plan_halving_doubling(count);
  else plan_ring(count);
  std::size_t most = 0;
  for (const Round& r : rounds_)
    if (r.reduce) most = std::max(most, r.recv_len);
  tmp_.resize(most);
}

void RingAllreduce::plan_ring(std::size_t n) {
  const std::size_t q = n / std::size_t(p_), extra = n % std::size_t(p_);
  auto off = [&](int c) { return std::size_t(c) * q + std::min(std::size_t(c), extra); };
  auto len = [&](int c) { return off(c + 1) - off(c); };
  auto mod = [&](int x) { return ((x % p_) + p_) % p_; };
  const int right = mod(rank_ + 1), left = mod(rank_ - 1);
  // Reduce-scatter: send chunk r-s, add chunk r-s-1. Rank r then owns chunk r+1; allgather passes it on.
  for (int s = 0; s < p_ - 1; ++s)
    rounds_.push_back({right, left, off(mod(rank_ - s)), len(mod(rank_ - s)), off(mod(rank_ - s - 1)),
                       len(mod(rank_ - s - 1)), true});
  for (int k = 0; k < p_ - 1; ++k)
    rounds_.push_back({right, left, off(mod(rank_ + 1 - k)), len(mod(rank_ + 1 - k)), off(mod(rank_ - k)),
                       len(mod(rank_ - k)), false});
}

void RingAllreduce::plan_halving_doubling(std::size_t n) {
  // Reduce-scatter: at distance d = p/2, p/4, ..., 1 keep the half of the current block on my side of
  // the partner (rank ^ d) and send the other half; the block halves each round.
  std::size_t lo = 0, hi = n;
  std::vector<Round> scatter;
  for (int d = p_ / 2; d >= 1; d /= 2) {
    const int peer = rank_ ^ d;
    const std::size_t mid = lo + (hi - lo) / 2;
    const bool keep_low = (rank_ & d) == 0;
    const std::size_t klo = keep_low ? lo : mid, khi = keep_low ? mid : hi;
    const std::size_t slo = keep_low ? mid : lo, shi = keep_low ? hi : mid;
    scatter.push_back({peer, peer, slo, shi - slo, klo, khi - klo, true});
    lo = klo;
    hi = khi;
  }
  rounds_ = scatter;
  // Allgather: the same exchanges in reverse order, each sending what it kept and receiving what it sent.
  for (auto it = scatter.rbegin(); it != scatter.rend(); ++it)
    rounds_.push_back({it->peer_send, it->peer_recv, it->recv_off, it->recv_len, it->send_off, it->send_len, false});
}

Request RingAllreduce::start(std::span<float> data) {
  if (in_flight_)
    throw std::logic_error("ring allreduce: start() on tag " + std::to_string(tag_) +
                           " while its previous operation is still in flight");
  if (!planned_ || data.size() != count_) plan(data.size());
  data_ = data;
  round_ = 0;
  in_flight_ = true;
  Request handle = Request::adopt(this);  // from here on, an exception releases this slot
  if (!rounds_.empty()) {
    comm_.account_staging(data.size_bytes());  // device -> host, once
    start_round();
  }
  return handle;
}

void RingAllreduce::start_round() {
  const Round& r = rounds_[round_];
  float* recv_buf = r.reduce ? tmp_.data() : data_.data() + r.recv_off;
  recv_ = net_.irecv(recv_buf, r.recv_len * sizeof(float), r.peer_recv, tag_);
  send_ = net_.isend(data_.data() + r.send_off, r.send_len * sizeof(float), r.peer_send, tag_);
}

void RingAllreduce::finish_round() {
  const Round& r = rounds_[round_];
  if (r.reduce) {
    ops::add(comm_, data_.subspan(r.recv_off, r.recv_len), std::span<const float>(tmp_.data(), r.recv_len));
  }
  if (++round_ < rounds_.size()) start_round();
  else comm_.account_staging(data_.size_bytes());  // host -> device, once
}

bool RingAllreduce::test() {
  while (round_ < rounds_.size()) {
    const bool received = recv_.test();
    const bool sent = send_.test();
    if (!received || !sent) return false;
    finish_round();
  }
  return true;
}

void RingAllreduce::wait() {
  while (round_ < rounds_.size()) {
    recv_.wait();
    send_.wait();
    finish_round();
  }
}

void RingAllreduce::release() {
  // Normally both are complete; after an error they are waited for (or dropped) here.
  send_ = Request();
  recv_ = Request();
  round_ = rounds_.size();
  in_flight_ = false;
}

}  // namespace gg
