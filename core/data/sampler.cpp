#include "core/data/sampler.hpp"

#include <algorithm>
#include <numeric>

#include "core/util/error.hpp"
#include "core/util/rng.hpp"

namespace gg {

ShardSampler::ShardSampler(std::int64_t dataset_size, int num_workers, int worker, int batch,
                           std::uint64_t seed, bool drop_last)
    : n_(dataset_size), workers_(num_workers), worker_(worker), batch_(batch), seed_(seed),
      drop_last_(drop_last) {
  const std::string who = "sampler: ";
  if (num_workers < 1) throw InputError(who + "number of workers must be >= 1, got " + std::to_string(num_workers));
  if (worker < 0 || worker >= num_workers)
    throw InputError(who + "worker index " + std::to_string(worker) + " is out of range [0, " +
                     std::to_string(num_workers) + ")");
  if (batch < 1) throw InputError(who + "batch size must be >= 1, got " + std::to_string(batch));
  if (dataset_size < 0) throw InputError(who + "dataset size must be >= 0, got " + std::to_string(dataset_size));
  shard_ = n_ / workers_;
  const std::string split = "(" + std::to_string(n_) + " samples over " + std::to_string(workers_) + " workers)";
  if (shard_ == 0)
    throw InputError(who + "every worker's shard is empty " + split);
  if (batch_ > shard_)
    throw InputError(who + "batch " + std::to_string(batch_) + " is larger than the " + std::to_string(shard_) +
                     " samples of worker " + std::to_string(worker_) + "'s shard " + split);
  steps_ = drop_last_ ? shard_ / batch_ : (shard_ + batch_ - 1) / batch_;
  perm_.resize(std::size_t(n_));
  reset(0);
}

void ShardSampler::reset(std::int64_t epoch) {
  epoch_ = epoch;
  step_ = 0;
  // Fisher-Yates from a fresh generator per epoch: the same on every worker, independent of history.
  std::iota(perm_.begin(), perm_.end(), std::int64_t(0));
  Rng rng(seed_of(seed_, std::uint64_t(epoch)));
  for (std::int64_t i = n_ - 1; i > 0; --i) std::swap(perm_[std::size_t(i)], perm_[rng.below(std::uint64_t(i) + 1)]);
}

void ShardSampler::next(const Dataset& ds, Batch& out) {
  if (ds.size() != n_)
    throw InputError("sampler: built for " + std::to_string(n_) + " samples but dataset " + ds.name + " has " +
                     std::to_string(ds.size()));
  const std::int64_t begin = step_ * batch_;
  const int n = int(std::min<std::int64_t>(batch_, shard_ - begin));
  ds.gather(perm_.data() + std::size_t(worker_) * shard_ + begin, n, out);
  if (++step_ == steps_) reset(epoch_ + 1);  // roll over now, so epoch() names the next batch's epoch
}

}  // namespace gg
