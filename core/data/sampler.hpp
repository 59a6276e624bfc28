#pragma once
// Data-parallel sampling: every epoch all workers draw the same permutation of [0, N) (seeded by
// (seed, epoch), so no communication is needed to agree on it), worker r takes the contiguous shard
// perm[r*S, (r+1)*S) with S = N / p (the remainder is left out this epoch), and serves it in batches
// of b. The permutation buffer is allocated once; next() allocates nothing once `out` has grown to
// its batch size.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/data/dataset.hpp"

namespace gg {

class ShardSampler {
 public:
  // Throws InputError if p < 1, r not in [0, p), b < 1, or b exceeds the shard size S.
  ShardSampler(std::int64_t dataset_size, int num_workers, int worker, int batch, std::uint64_t seed,
               bool drop_last = true);

  // Batches per epoch: S / b, rounded up if !drop_last.
  std::int64_t steps_per_epoch() const { return steps_; }
  // Fills `out` with the next batch, rolling over to the next epoch after the last one.
  void next(const Dataset& ds, Batch& out);
  // The epoch and step within it that the next call to next() will serve.
  std::int64_t epoch() const { return epoch_; }
  std::int64_t step_in_epoch() const { return step_; }
  // Restarts at step 0 of `epoch` (e.g. when resuming).
  void reset(std::int64_t epoch);

  std::int64_t shard_size() const { return shard_; }
  // This worker's sample ids for the current epoch, in serving order.
  std::span<const std::int64_t> shard() const { return {perm_.data() + std::size_t(worker_) * shard_, std::size_t(shard_)}; }
  // The whole permutation of the current epoch (identical on every worker).
  const std::vector<std::int64_t>& permutation() const { return perm_; }

 private:
  std::int64_t n_, shard_, steps_, epoch_ = 0, step_ = 0;
  int workers_, worker_, batch_;
  std::uint64_t seed_;
  bool drop_last_;
  std::vector<std::int64_t> perm_;  // [N]
};

}  // namespace gg
