#include "algorithms/sample_shuffle.hpp"

#include <cstring>
#include <stdexcept>
#include <string>

#include "algorithms/algo_util.hpp"
#include "core/util/error.hpp"
#include "core/comm/charged_ops.hpp"

namespace gg {

ShuffleRoute shuffle_route_from(const std::string& s) {
  if (s == "none") return ShuffleRoute::None;
  if (s == "partner") return ShuffleRoute::Partner;
  if (s == "ring") return ShuffleRoute::Ring;
  throw std::invalid_argument("shuffle_route_from: unknown shuffle \"" + s + "\"");
}

Partners shuffle_partners(ShuffleRoute route, int rank, int p, Partners gossip) {
  if (route == ShuffleRoute::None || p <= 1) return {};
  if (route == ShuffleRoute::Partner) return gossip;
  return {(rank + p - 1) % p, (rank + 1) % p};
}

SampleShuffle::SampleShuffle(Communicator& comm, Shape sample, int max_batch)
    : comm_(comm),
      sample_(sample),
      per_sample_(sample.per_sample()),
      max_batch_(max_batch),
      tag_(comm.reserve_tags(1)) {
  const std::size_t words = (bytes_for(std::size_t(max_batch)) + 7) / 8;
  send_.assign(words, 0);
  recv_.assign(words, 0);
  comm_.reserve_requests(2);
}

std::size_t SampleShuffle::bytes_for(std::size_t n) const {
  return 8 + 8 * n + 4 * (n + (n & 1)) + 4 * n * per_sample_;
}

std::size_t SampleShuffle::pack(const Batch& b) {
  const std::size_t n = std::size_t(b.size());
  if (b.size() > max_batch_ || b.ids.size() != n || b.x.size() != n * per_sample_)
    throw std::logic_error("shuffle: batch of " + std::to_string(n) + " samples (" + std::to_string(b.ids.size()) +
                           " ids, " + std::to_string(b.x.size()) + " floats) does not fit max batch " +
                           std::to_string(max_batch_) + " of " + sample_.str());
  char* p = reinterpret_cast<char*>(send_.data());
  const std::int64_t n64 = std::int64_t(n);
  ops::copy_bytes(comm_, p, &n64, 8);  // read the batch, write the message
  ops::copy_bytes(comm_, p + 8, b.ids.data(), 8 * n);
  ops::copy_bytes(comm_, p + 8 + 8 * n, b.labels.data(), 4 * n);
  ops::copy_bytes(comm_, p + 8 + 8 * n + 4 * (n + (n & 1)), b.x.data(), 4 * n * per_sample_);
  return bytes_for(n);
}

void SampleShuffle::unpack(Batch& b) const {
  const char* p = reinterpret_cast<const char*>(recv_.data());
  std::int64_t n64 = 0;
  std::memcpy(&n64, p, 8);
  if (n64 < 0 || n64 > max_batch_) throw std::runtime_error("shuffle: received a corrupt batch header");
  const std::size_t n = std::size_t(n64);
  b.ids.resize(n);
  b.labels.resize(n);
  b.x.resize(sample_.with_batch(int(n)));
  ops::copy_bytes(comm_, b.ids.data(), p + 8, 8 * n);
  ops::copy_bytes(comm_, b.labels.data(), p + 8 + 8 * n, 4 * n);
  ops::copy_bytes(comm_, b.x.data(), p + 8 + 8 * n + 4 * (n + (n & 1)), 4 * n * per_sample_);
}

void SampleShuffle::exchange(Batch& batch, Partners partners, StepStats& stats) {
  if (partners.send_to < 0) return;  // a single rank: nothing to shuffle
  TimeScope t(comm_, stats.comm_s);
  {
    TimeScope w(comm_, stats.wait_s);
    send_req_.wait();  // the previous step's batch has left: send_ may be refilled
  }
  const std::size_t bytes = pack(batch);
  if (pending_) {
    {
      TimeScope w(comm_, stats.wait_s);
      recv_req_.wait();
    }
    unpack(batch);
  }
  send_req_ = comm_.isend(send_.data(), bytes, partners.send_to, tag_);
  recv_req_ = comm_.irecv(recv_.data(), recv_.size() * 8, partners.recv_from, tag_);
  pending_ = true;
  stats.bytes_sent += bytes;
}

void SampleShuffle::poll(StepStats& stats) {
  if (!pending_) return;
  TimeScope t(comm_, stats.comm_s);
  send_req_.test();
  recv_req_.test();
}

void SampleShuffle::finish() {
  send_req_.wait();
  recv_req_.wait();
  pending_ = false;
}

void SampleShuffle::save_state(StateWriter& out) {
  send_req_.wait();
  recv_req_.wait();
  out.put_int("shuffle.pending", pending_ ? 1 : 0);
  if (!pending_) return;
  std::int64_t n = 0;
  std::memcpy(&n, recv_.data(), 8);
  if (n < 0 || n > max_batch_) throw std::runtime_error("shuffle: received a corrupt batch header");
  out.put_ints("shuffle.batch", std::span<const std::int64_t>(recv_.data(), (bytes_for(std::size_t(n)) + 7) / 8));
}

void SampleShuffle::load_state(StateReader& in) {
  pending_ = in.get_int("shuffle.pending") != 0;
  if (!pending_) return;
  const std::vector<std::int64_t> words = in.get_ints("shuffle.batch");
  const std::int64_t n = words.empty() ? -1 : words[0];
  if (n < 0 || n > max_batch_ || words.size() != (bytes_for(std::size_t(n)) + 7) / 8)
    throw InputError(in.source() + ": record 'shuffle.batch': not a batch of at most " + std::to_string(max_batch_) +
                     " samples of " + sample_.str());
  std::copy(words.begin(), words.end(), recv_.begin());
}

}  // namespace gg
