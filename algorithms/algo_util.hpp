#pragma once
// Small helpers shared by the algorithm files: timing scopes and the model's bucket list.
#include <vector>

#include "core/comm/communicator.hpp"
#include "core/model/model.hpp"

namespace gg {

// Adds the duration of a scope to *acc, on the communicator's clock (simulated time under SMPI).
class TimeScope {
 public:
  TimeScope(const Communicator& c, double& acc) : c_(c), acc_(acc), t0_(c.wtime()) {}
  ~TimeScope() { acc_ += c_.wtime() - t0_; }
  TimeScope(const TimeScope&) = delete;
  TimeScope& operator=(const TimeScope&) = delete;

 private:
  const Communicator& c_;
  double& acc_;
  double t0_;
};

// The model's gradient buckets; a model without buckets is treated as one bucket over everything.
inline std::vector<Bucket> model_buckets(const Model& m) {
  if (!m.buckets().empty()) return m.buckets();
  return {Bucket{0, 0, m.num_params()}};
}

// True if the model's buckets differ from `cached` (set_bucket_bytes was called after construction).
inline bool buckets_changed(const Model& m, const std::vector<Bucket>& cached) {
  const auto& b = m.buckets();
  if (b.empty()) return cached.size() != 1 || cached[0].count != m.num_params();
  if (b.size() != cached.size()) return true;
  for (std::size_t i = 0; i < b.size(); ++i)
    if (b[i].offset != cached[i].offset || b[i].count != cached[i].count) return true;
  return false;
}

}  // namespace gg
