#pragma once
// Data-parallel sampling over N samples, p workers, batch b, shard size S = N / p (the remainder
// N - p*S is left out). Four ways to split the data (config "data.partition"):
//   reshuffle (default): every epoch all workers draw the same permutation of [0, N) (seeded by
//     (seed, epoch), so no communication is needed to agree on it) and worker r takes the contiguous
//     shard perm[r*S, (r+1)*S): over the epochs every worker sees all of the data.
//   fixed (the GossipGraD paper's setting): the data set is partitioned once, by one permutation of
//     [0, N) seeded by the seed alone; worker r owns perm[r*S, (r+1)*S) for the whole run and each
//     epoch serves it in a fresh order seeded by (seed, epoch, r). A worker then needs only its own
//     partition in memory (see fixed_partition); mixing data across workers is left to the
//     algorithm (gossipgrad's sample shuffle).
//   classes, dirichlet: label-skewed (non-IID) partitions, "fixed" in kind: worker r owns a set of S
//     samples chosen by the labels (core/data/label_partition.hpp) for the whole run and serves it
//     exactly like "fixed" (a fresh order seeded by (seed, epoch, r) every epoch). The sampler cannot
//     compute such a set from N alone: it is given to the constructor (`owned`).
// Either way the shards of one epoch are disjoint, every worker serves S samples, and each is served
// in batches of b. The id buffer is allocated once; next() allocates nothing once `out` has grown to
// its batch size.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/data/dataset.hpp"

namespace gg {

enum class Partition { Reshuffle, Fixed, Classes, Dirichlet };
// "reshuffle" | "fixed" | "classes" | "dirichlet"; throws InputError naming `path` otherwise.
Partition parse_partition(const std::string& text, const std::string& path);
std::vector<std::string> partition_names();  // in the order of the enum
const std::string& partition_name(Partition p);
// True for the partitions under which a worker owns one set of samples for the whole run (all but
// reshuffle): such a worker need store only its own samples.
inline bool owns_samples(Partition p) { return p != Partition::Reshuffle; }

class ShardSampler {
 public:
  // owned: the samples this worker owns under Partition::Classes / Dirichlet (ascending, S of them,
  // see label_partition.hpp); under Fixed it may be given (it must then equal fixed_partition) or left
  // empty (computed); under Reshuffle it must be empty.
  // Throws InputError if p < 1, r not in [0, p), b < 1, b exceeds the shard size S, or `owned` does not
  // fit the partition.
  ShardSampler(std::int64_t dataset_size, int num_workers, int worker, int batch, std::uint64_t seed,
               bool drop_last = true, Partition partition = Partition::Reshuffle,
               std::vector<std::int64_t> owned = {});

  // The sample ids worker `worker` owns under Partition::Fixed, ascending (what it must store); S of
  // them, none if S = 0. Throws InputError if p < 1, r not in [0, p) or the size is negative.
  static std::vector<std::int64_t> fixed_partition(std::int64_t dataset_size, int num_workers, int worker,
                                                   std::uint64_t seed);
  // The permutation of [0, N) whose contiguous pieces [r*S, (r+1)*S) are the fixed partitions.
  static std::vector<std::int64_t> fixed_order(std::int64_t dataset_size, std::uint64_t seed);

  // Batches per epoch: S / b, rounded up if !drop_last.
  std::int64_t steps_per_epoch() const { return steps_; }
  // Fills `out` with the next batch, rolling over to the next epoch after the last one.
  void next(const Dataset& ds, Batch& out);
  // The epoch and step within it that the next call to next() will serve.
  std::int64_t epoch() const { return epoch_; }
  std::int64_t step_in_epoch() const { return step_; }
  // Restarts at step 0 of `epoch` (e.g. when resuming).
  void reset(std::int64_t epoch);
  // Continues at step `step_in_epoch` of `epoch` (what epoch() and step_in_epoch() said; resuming).
  // Throws InputError if the step is not within an epoch.
  void seek(std::int64_t epoch, std::int64_t step_in_epoch);

  std::int64_t shard_size() const { return shard_; }
  Partition partition() const { return partition_; }
  // This worker's sample ids for the current epoch, in serving order.
  std::span<const std::int64_t> shard() const {
    return {perm_.data() + (partition_ == Partition::Reshuffle ? std::size_t(worker_) * shard_ : 0),
            std::size_t(shard_)};
  }
  // Reshuffle: the whole permutation of the current epoch (identical on every worker).
  // Fixed, classes, dirichlet: this worker's partition in the current epoch's serving order.
  const std::vector<std::int64_t>& permutation() const { return perm_; }

 private:
  void check_owned() const;  // InputError unless owned_ is S ascending ids in [0, N)

  std::int64_t n_, shard_, steps_, epoch_ = 0, step_ = 0;
  int workers_, worker_, batch_;
  std::uint64_t seed_;
  bool drop_last_;
  Partition partition_;
  std::vector<std::int64_t> owned_;  // owning partitions: this worker's partition, ascending [S]
  std::vector<std::int64_t> perm_;   // reshuffle: [N]; owning partitions: [S]
};

}  // namespace gg
