#include "core/data/sampler.hpp"

#include <algorithm>
#include <numeric>

#include "core/util/error.hpp"
#include "core/util/rng.hpp"

namespace gg {

namespace {

// Random streams: the reshuffle permutations use seed_of(seed, epoch) (c = 0), the fixed partition
// seed_of(seed, 0, 1), the fixed per-epoch orders seed_of(seed, epoch, 2 + worker).
constexpr std::uint64_t kPartitionStream = 1, kOrderStream = 2;

void fisher_yates(std::vector<std::int64_t>& v, std::uint64_t seed) {
  Rng rng(seed);
  for (std::int64_t i = std::int64_t(v.size()) - 1; i > 0; --i)
    std::swap(v[std::size_t(i)], v[rng.below(std::uint64_t(i) + 1)]);
}

[[noreturn]] void fail(const std::string& what) { throw InputError("sampler: " + what); }

// Throws InputError unless p >= 1 and r in [0, p).
void check_worker(int workers, int worker) {
  if (workers < 1) fail("number of workers must be >= 1, got " + std::to_string(workers));
  if (worker < 0 || worker >= workers)
    fail("worker index " + std::to_string(worker) + " is out of range [0, " + std::to_string(workers) + ")");
}

void check_size(std::int64_t n) {
  if (n < 0) fail("dataset size must be >= 0, got " + std::to_string(n));
}

std::string split_text(std::int64_t n, int workers) {
  return "(" + std::to_string(n) + " samples over " + std::to_string(workers) + " workers)";
}

}  // namespace

std::vector<std::string> partition_names() { return {"reshuffle", "fixed", "classes", "dirichlet"}; }

const std::string& partition_name(Partition p) {
  static const std::vector<std::string> names = partition_names();  // immutable after first use
  return names.at(std::size_t(p));
}

Partition parse_partition(const std::string& text, const std::string& path) {
  const std::vector<std::string> names = partition_names();
  for (std::size_t i = 0; i < names.size(); ++i)
    if (text == names[i]) return Partition(i);
  std::string list;
  for (const auto& n : partition_names()) list += (list.empty() ? "" : ", ") + n;
  throw InputError("config: '" + path + "' must be one of {" + list + "}, got \"" + text + "\"");
}

std::vector<std::int64_t> ShardSampler::fixed_partition(std::int64_t dataset_size, int num_workers, int worker,
                                                        std::uint64_t seed) {
  check_worker(num_workers, worker);
  check_size(dataset_size);
  const std::int64_t s = dataset_size / num_workers;
  const std::vector<std::int64_t> perm = fixed_order(dataset_size, seed);
  std::vector<std::int64_t> mine(perm.begin() + std::ptrdiff_t(worker) * s,
                                 perm.begin() + std::ptrdiff_t(worker + 1) * s);
  std::sort(mine.begin(), mine.end());
  return mine;
}

std::vector<std::int64_t> ShardSampler::fixed_order(std::int64_t dataset_size, std::uint64_t seed) {
  check_size(dataset_size);
  std::vector<std::int64_t> perm(static_cast<std::size_t>(dataset_size));
  std::iota(perm.begin(), perm.end(), std::int64_t(0));
  fisher_yates(perm, seed_of(seed, 0, kPartitionStream));
  return perm;
}

ShardSampler::ShardSampler(std::int64_t dataset_size, int num_workers, int worker, int batch,
                           std::uint64_t seed, bool drop_last, Partition partition,
                           std::vector<std::int64_t> owned)
    : n_(dataset_size), workers_(num_workers), worker_(worker), batch_(batch), seed_(seed),
      drop_last_(drop_last), partition_(partition), owned_(std::move(owned)) {
  check_worker(num_workers, worker);
  if (batch < 1) fail("batch size must be >= 1, got " + std::to_string(batch));
  check_size(dataset_size);
  shard_ = n_ / workers_;
  if (shard_ == 0) fail("every worker's shard is empty " + split_text(n_, workers_));
  if (batch_ > shard_)
    fail("batch " + std::to_string(batch_) + " is larger than the " + std::to_string(shard_) + " samples of worker " +
         std::to_string(worker_) + "'s shard " + split_text(n_, workers_));
  steps_ = drop_last_ ? shard_ / batch_ : (shard_ + batch_ - 1) / batch_;
  if (partition_ == Partition::Reshuffle) {
    if (!owned_.empty()) fail("a reshuffled sampler owns no samples, but was given " + std::to_string(owned_.size()));
    perm_.resize(std::size_t(n_));
  } else {
    if (partition_ == Partition::Fixed && owned_.empty()) owned_ = fixed_partition(n_, workers_, worker_, seed_);
    check_owned();
    perm_.resize(owned_.size());
  }
  reset(0);
}

void ShardSampler::check_owned() const {
  const std::string who = "worker " + std::to_string(worker_) + "'s " + partition_name(partition_) + " partition";
  if (std::int64_t(owned_.size()) != shard_)
    fail(who + " holds " + std::to_string(owned_.size()) + " samples, expected " + std::to_string(shard_) + " " +
         split_text(n_, workers_));
  for (std::size_t k = 0; k < owned_.size(); ++k)
    if (owned_[k] < 0 || owned_[k] >= n_ || (k > 0 && owned_[k] <= owned_[k - 1]))
      fail(who + " must be ascending sample ids in [0, " + std::to_string(n_) + "), got " + std::to_string(owned_[k]) +
           " at position " + std::to_string(k));
}

void ShardSampler::reset(std::int64_t epoch) {
  epoch_ = epoch;
  step_ = 0;
  // Fisher-Yates from a fresh generator per epoch: independent of history.
  if (partition_ != Partition::Reshuffle) {  // this worker's own order of its partition
    std::copy(owned_.begin(), owned_.end(), perm_.begin());
    fisher_yates(perm_, seed_of(seed_, std::uint64_t(epoch), kOrderStream + std::uint64_t(worker_)));
  } else {  // the same on every worker
    std::iota(perm_.begin(), perm_.end(), std::int64_t(0));
    fisher_yates(perm_, seed_of(seed_, std::uint64_t(epoch)));
  }
}

void ShardSampler::seek(std::int64_t epoch, std::int64_t step_in_epoch) {
  if (epoch < 0 || step_in_epoch < 0 || step_in_epoch >= steps_)
    fail("cannot continue at step " + std::to_string(step_in_epoch) + " of epoch " + std::to_string(epoch) + " (" +
         std::to_string(steps_) + " steps per epoch)");
  reset(epoch);
  step_ = step_in_epoch;
}

void ShardSampler::next(const Dataset& ds, Batch& out) {
  if (ds.samples() != n_)
    throw InputError("sampler: built for " + std::to_string(n_) + " samples but dataset " + ds.name + " has " +
                     std::to_string(ds.samples()));
  const std::int64_t begin = step_ * batch_;
  const int n = int(std::min<std::int64_t>(batch_, shard_ - begin));
  ds.gather(shard().data() + begin, n, out);
  if (++step_ == steps_) reset(epoch_ + 1);  // roll over now, so epoch() names the next batch's epoch
}

}  // namespace gg
