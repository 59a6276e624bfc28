#pragma once
// Label-skewed (non-IID) partitions of a training set among p workers, and the class histogram of
// any partition under which workers own their samples (config "data.partition", core/data/sampler.hpp).
// Pure functions of (labels, C, p, settings, seed): every rank computes the same partition from the
// labels of the whole training set, with no communication (the labels are small; the images of the
// samples a worker does not own are never stored).
//
// N samples with labels in [0, C), p workers, S = N / p. Every worker owns exactly S samples, the
// workers' sets are disjoint, and the N - p*S samples left over are owned by nobody.
//
// "classes" (config data.classes_per_worker = k, default 2), after McMahan et al. 2017:
//   1. P = a permutation of [0, N) seeded by (seed, stream 1); keep its first p*S entries (the
//      left-over samples are random ones).
//   2. Sort those p*S ids by label, ties in the order of P (a stable sort).
//   3. Cut the sorted sequence into p*k contiguous pieces and deal them to the workers: sigma = a
//      permutation of [0, p*k) seeded by (seed, stream 2); worker w owns pieces sigma[w*k + j],
//      j in [0, k). With q = S / k and m = S % k, the piece sigma[w*k + j] holds q + 1 samples if j < m,
//      else q (so every worker gets exactly S). Pieces lie in the sorted sequence in index order.
//   A piece holds one label unless it straddles a label boundary (then two, if no class is smaller
//   than a piece), so a worker sees at most k labels when no piece straddles, at most 2k otherwise.
//
// "dirichlet" (config data.dirichlet_alpha = alpha > 0, default 0.5):
//   1. Class pools: the ids of each class in the order of a permutation of [0, N) seeded by
//      (seed, stream 3).
//   2. Proportions: for workers r = 0..p-1 in turn, q_r ~ Dirichlet(alpha, ..., alpha) over the C
//      classes: g_c ~ Gamma(alpha, 1) drawn in class order by the Marsaglia-Tsang method from one
//      gg::Rng seeded by (seed, stream 4) (normals by Box-Muller, so the draw depends only on the seed,
//      never on the standard library's distributions; computed in log space so that tiny alpha does
//      not underflow), q_rc = g_c / sum g.
//   3. Workers are served in the order of a permutation of [0, p) seeded by (seed, stream 5). Worker r's
//      targets t_rc are S * q_rc rounded by largest remainders (floors, then +1 for the S - sum floors
//      classes of largest fractional part, ties to the lower class), so they sum to S. It takes
//      min(t_rc, remaining supply of c) from the front of each class pool, then fills what is missing
//      one sample at a time from the class with the most remaining supply (ties to the lower class).
//   alpha -> infinity gives every worker the classes in proportion S / C (as far as supply allows);
//   small alpha concentrates each worker on few classes.
//
// Random streams: seed_of(seed, kLabelPartitionStream, stream), apart from the sampler's streams.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/data/sampler.hpp"
#include "core/util/rng.hpp"

namespace gg {

// What data.partition and its options say.
struct PartitionSpec {
  Partition kind = Partition::Reshuffle;
  int classes_per_worker = 2;    // "classes": data.classes_per_worker
  double dirichlet_alpha = 0.5;  // "dirichlet": data.dirichlet_alpha
  std::string path = "data";     // the config object's path, for error messages
};

// Throws InputError naming the config key unless classes_per_worker is in [1, num_classes] (classes)
// and dirichlet_alpha is in (0, 1e6] (dirichlet). Other partitions have nothing to check. num_classes
// 0: not known yet (only k >= 1 is checked).
void check_partition_spec(const PartitionSpec& spec, int num_classes);

// owner[i]: the worker that owns sample i for the whole run, -1 for none. For every partition but
// reshuffle (std::invalid_argument): fixed gives ShardSampler::fixed_partition's sets (labels unused
// except for their count), classes and dirichlet the sets described above. Throws InputError for a bad
// spec (check_partition_spec) or a label outside [0, num_classes), and if p < 1.
std::vector<std::int32_t> partition_owners(const PartitionSpec& spec, std::span<const std::int32_t> labels,
                                           int num_classes, int workers, std::uint64_t seed);

// The samples `worker` owns, ascending.
std::vector<std::int64_t> samples_of(std::span<const std::int32_t> owners, int worker);

// The number of samples of each class each worker owns: [workers, num_classes], row-major.
std::vector<std::int64_t> class_histogram(std::span<const std::int32_t> owners, std::span<const std::int32_t> labels,
                                          int num_classes, int workers);

// Dirichlet(alpha, ..., alpha) over `classes` classes from one generator (step 2 above); sums to 1.
std::vector<double> dirichlet_sample(Rng& rng, double alpha, int classes);

}  // namespace gg
