#include "core/comm/ring_allreduce.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace gg {

namespace {
void check(int rc, const char* op) {
  if (rc != MPI_SUCCESS) throw std::runtime_error(std::string("MPI: ") + op + " failed in nonblocking allreduce [code " +
                                                  std::to_string(rc) + "]");
}
}  // namespace

RingAllreduce::RingAllreduce(MPI_Comm comm, std::span<float> data, int tag) : comm_(comm), data_(data), tag_(tag) {
  check(MPI_Comm_rank(comm_, &rank_), "MPI_Comm_rank");
  check(MPI_Comm_size(comm_, &p_), "MPI_Comm_size");
  if (p_ < 2) return;
  if ((p_ & (p_ - 1)) == 0 && data_.size() >= std::size_t(p_)) plan_halving_doubling();
  else plan_ring();
  std::size_t most = 0;
  for (const Round& r : rounds_) {
    if (r.recv_len > (std::size_t(1) << 30) || r.send_len > (std::size_t(1) << 30))
      throw std::invalid_argument("nonblocking allreduce: block above 2^30 floats");
    if (r.reduce) most = std::max(most, r.recv_len);
  }
  tmp_.resize(most);
  start_round();
}

void RingAllreduce::plan_ring() {
  const std::size_t n = data_.size(), q = n / std::size_t(p_), extra = n % std::size_t(p_);
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

void RingAllreduce::plan_halving_doubling() {
  // Reduce-scatter: at distance d = p/2, p/4, ..., 1 keep the half of the current block on my side of
  // the partner (rank ^ d) and send the other half; the block halves each round.
  std::size_t lo = 0, hi = data_.size();
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

void RingAllreduce::start_round() {
  const Round& r = rounds_[round_];
  float* recv_buf = r.reduce ? tmp_.data() : data_.data() + r.recv_off;
  check(MPI_Irecv(recv_buf, int(r.recv_len), MPI_FLOAT, r.peer_recv, tag_, comm_, &reqs_[0]), "MPI_Irecv");
  check(MPI_Isend(data_.data() + r.send_off, int(r.send_len), MPI_FLOAT, r.peer_send, tag_, comm_, &reqs_[1]),
        "MPI_Isend");
}

void RingAllreduce::finish_round() {
  const Round& r = rounds_[round_];
  if (r.reduce) {
    float* dst = data_.data() + r.recv_off;
    for (std::size_t i = 0; i < r.recv_len; ++i) dst[i] += tmp_[i];
  }
  if (++round_ < rounds_.size()) start_round();
}

bool RingAllreduce::test() {
  while (round_ < rounds_.size()) {
    int done = 0;
    check(MPI_Testall(2, reqs_, &done, MPI_STATUSES_IGNORE), "MPI_Testall");
    if (!done) return false;
    finish_round();
  }
  return true;
}

void RingAllreduce::wait() {
  while (round_ < rounds_.size()) {
    check(MPI_Waitall(2, reqs_, MPI_STATUSES_IGNORE), "MPI_Waitall");
    finish_round();
  }
}

}  // namespace gg
