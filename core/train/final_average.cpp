#include "core/train/final_average.hpp"

#include <algorithm>
#include <string>

#include "core/util/error.hpp"

namespace gg {

namespace {

bool power_of_two(int p) { return p > 0 && (p & (p - 1)) == 0; }

}  // namespace

void check_final_average(FinalAverage how, int workers) {
  if (how == FinalAverage::Hypercube && !power_of_two(workers))
    throw InputError("config: 'train.final_average' \"hypercube\" needs a power-of-two number of workers, not " +
                     std::to_string(workers) + " (use \"allreduce\")");
}

FinalAverager::FinalAverager(FinalAverage how, Communicator& workers, Model& model)
    : how_(how), comm_(workers), model_(model) {
  check_final_average(how, workers.size());
  if (how_ == FinalAverage::Hypercube) tag_ = comm_.reserve_tags(1);
}

void FinalAverager::run() {
  if (how_ == FinalAverage::None || comm_.size() == 1) return;
  // Gather the replica into one buffer: parameters, then each layer's persistent state in forward order.
  const std::vector<std::span<float>> extra = model_.persistent_state();
  const std::span<float> params = model_.params();
  state_.assign(params.begin(), params.end());
  for (std::span<float> s : extra) state_.insert(state_.end(), s.begin(), s.end());
  if (how_ == FinalAverage::Allreduce) {
    comm_.allreduce_sum(std::span<float>(state_));
    const float inv = 1.0f / float(comm_.size());
    for (float& x : state_) x *= inv;
  } else {
    hypercube();
  }
  comm_.account_memory(3 * sizeof(float) * state_.size());  // gather, scale or average, scatter
  auto at = state_.begin();
  std::copy(at, at + std::ptrdiff_t(params.size()), params.begin());
  at += std::ptrdiff_t(params.size());
  for (std::span<float> s : extra) {
    std::copy(at, at + std::ptrdiff_t(s.size()), s.begin());
    at += std::ptrdiff_t(s.size());
  }
}

void FinalAverager::hypercube() {
  recv_.resize(state_.size());
  const int me = comm_.rank(), p = comm_.size();
  const std::size_t bytes = state_.size() * sizeof(float);
  for (int bit = 1; bit < p; bit <<= 1) {
    const int partner = me ^ bit;
    Request r = comm_.irecv(recv_.data(), bytes, partner, tag_);
    Request s = comm_.isend(state_.data(), bytes, partner, tag_);
    r.wait();
    s.wait();
    for (std::size_t i = 0; i < state_.size(); ++i) state_[i] = 0.5f * (state_[i] + recv_[i]);
  }
}

}  // namespace gg
