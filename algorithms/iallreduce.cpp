#include "algorithms/iallreduce.hpp"

#include <limits>
#include <stdexcept>
#include <string>

namespace gg {

void Iallreduce::plan(std::span<const std::size_t> counts) {
  for (const auto& op : ops_)
    if (op->in_flight()) throw std::logic_error("iallreduce: plan() while an operation is in flight");
  counts_.assign(counts.begin(), counts.end());
  if (!ring_) {
    comm_.reserve_requests(counts.size());
    return;
  }
  comm_.reserve_requests(2 * counts.size());  // each operation has one send and one receive in flight
  if (counts.size() > std::size_t(std::numeric_limits<int>::max()))
    throw std::invalid_argument("iallreduce: " + std::to_string(counts.size()) + " slots do not fit the tag space");
  if (counts.size() > ops_.size()) {           // more slots than tags: a new block for all of them
    const int base = comm_.reserve_tags(int(counts.size()));
    ops_.clear();
    for (std::size_t i = 0; i < counts.size(); ++i) ops_.push_back(std::make_unique<RingAllreduce>(comm_, base + int(i)));
  }
  for (std::size_t i = 0; i < counts.size(); ++i) ops_[i]->plan(counts[i]);
}

Request Iallreduce::start(std::size_t slot, std::span<float> data) {
  if (slot >= counts_.size())
    throw std::out_of_range("iallreduce: slot " + std::to_string(slot) + " of " + std::to_string(counts_.size()) +
                            " planned");
  if (!ring_) return comm_.iallreduce_sum(data);
  return ops_[slot]->start(data);
}

}  // namespace gg
