#include "core/comm/ring_allreduce.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace gg {

namespace {
void check(int rc, const char* op) {
  if (rc != MPI_SUCCESS) throw std::runtime_error(std::string("MPI: ") + op + " failed in ring allreduce [code " +
                                                  std::to_string(rc) + "]");
}
}  // namespace

RingAllreduce::RingAllreduce(MPI_Comm comm, std::span<float> data, int tag) : comm_(comm), data_(data), tag_(tag) {
  check(MPI_Comm_rank(comm_, &rank_), "MPI_Comm_rank");
  check(MPI_Comm_size(comm_, &p_), "MPI_Comm_size");
  if (data_.size() / std::size_t(p_) > (std::size_t(1) << 30)) throw std::invalid_argument("ring allreduce: chunk above 2^30 floats");
  rounds_ = p_ > 1 ? 2 * (p_ - 1) : 0;
  if (rounds_ == 0) return;
  tmp_.resize(length(0));  // chunk 0 is the largest
  start_round();
}

std::size_t RingAllreduce::offset(int chunk) const {
  const std::size_t n = data_.size(), q = n / std::size_t(p_), extra = n % std::size_t(p_);
  const std::size_t c = std::size_t(chunk);
  return c * q + std::min(c, extra);  // the first `extra` chunks hold one more float
}

// Round s < p-1 (reduce-scatter): send chunk r-s, receive chunk r-s-1 into tmp and add it.
// Round s >= p-1 (allgather, k = s-p+1): send the finished chunk r+1-k, receive chunk r-k in place.
void RingAllreduce::start_round() {
  const int s = round_, right = mod(rank_ + 1), left = mod(rank_ - 1);
  const bool scatter = s < p_ - 1;
  const int k = s - (p_ - 1);
  const int send_c = scatter ? mod(rank_ - s) : mod(rank_ + 1 - k);
  const int recv_c = scatter ? mod(rank_ - s - 1) : mod(rank_ - k);
  float* recv_buf = scatter ? tmp_.data() : data_.data() + offset(recv_c);
  check(MPI_Irecv(recv_buf, int(length(recv_c)), MPI_FLOAT, left, tag_, comm_, &reqs_[0]), "MPI_Irecv");
  check(MPI_Isend(data_.data() + offset(send_c), int(length(send_c)), MPI_FLOAT, right, tag_, comm_, &reqs_[1]),
        "MPI_Isend");
}

void RingAllreduce::finish_round() {
  if (round_ < p_ - 1) {
    const int c = mod(rank_ - round_ - 1);
    float* dst = data_.data() + offset(c);
    const std::size_t n = length(c);
    for (std::size_t i = 0; i < n; ++i) dst[i] += tmp_[i];
  }
  ++round_;
  if (round_ < rounds_) start_round();
}

bool RingAllreduce::test() {
  while (round_ < rounds_) {
    int done = 0;
    check(MPI_Testall(2, reqs_, &done, MPI_STATUSES_IGNORE), "MPI_Testall");
    if (!done) return false;
    finish_round();
  }
  return true;
}

void RingAllreduce::wait() {
  while (round_ < rounds_) {
    check(MPI_Waitall(2, reqs_, MPI_STATUSES_IGNORE), "MPI_Waitall");
    finish_round();
  }
}

}  // namespace gg
