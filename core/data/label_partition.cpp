#include "core/data/label_partition.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <queue>
#include <stdexcept>
#include <utility>

#include "core/util/error.hpp"

namespace gg {

namespace {

// seed_of(seed, kLabelPartitionStream, stream): b never reached by an epoch of the sampler's streams.
constexpr std::uint64_t kLabelPartitionStream = 0x4C4142454C530000ull;  // "LABELS"
enum Stream : std::uint64_t { kClassesOrder = 1, kClassesDeal = 2, kPoolOrder = 3, kProportions = 4, kWorkerOrder = 5 };

std::uint64_t stream_seed(std::uint64_t seed, Stream s) { return seed_of(seed, kLabelPartitionStream, s); }

// A Fisher-Yates permutation of [0, n).
std::vector<std::int64_t> permutation(std::int64_t n, std::uint64_t seed) {
  std::vector<std::int64_t> v(static_cast<std::size_t>(n));
  std::iota(v.begin(), v.end(), std::int64_t(0));
  Rng rng(seed);
  for (std::int64_t i = n - 1; i > 0; --i) std::swap(v[std::size_t(i)], v[rng.below(std::uint64_t(i) + 1)]);
  return v;
}

// Uniform in (0, 1), 53 bits.
double uniform_open(Rng& rng) { return (double(rng.next() >> 11) + 0.5) * (1.0 / 9007199254740992.0); }

double normal(Rng& rng) {  // Box-Muller, one of the pair
  const double u1 = uniform_open(rng), u2 = uniform_open(rng);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

// log of a Gamma(a, 1) draw (Marsaglia & Tsang 2000; a < 1 by Gamma(a + 1) * U^(1/a)).
double log_gamma_draw(Rng& rng, double a) {
  if (a < 1) {
    const double boost = std::log(uniform_open(rng)) / a;
    return log_gamma_draw(rng, a + 1) + boost;
  }
  const double d = a - 1.0 / 3.0, c = 1.0 / std::sqrt(9.0 * d);
  for (;;) {
    const double x = normal(rng);
    double v = 1.0 + c * x;
    if (v <= 0) continue;
    v = v * v * v;
    const double u = uniform_open(rng);
    if (u < 1.0 - 0.0331 * x * x * x * x || std::log(u) < 0.5 * x * x + d * (1.0 - v + std::log(v)))
      return std::log(d) + std::log(v);
  }
}

void check_labels(std::span<const std::int32_t> labels, int num_classes) {
  for (std::size_t i = 0; i < labels.size(); ++i)
    if (labels[i] < 0 || labels[i] >= num_classes)
      throw InputError("data partition: label " + std::to_string(labels[i]) + " of sample " + std::to_string(i) +
                       " is out of range [0, " + std::to_string(num_classes) + ")");
}

void classes_owners(std::span<const std::int32_t> labels, int p, int k, std::uint64_t seed,
                    std::vector<std::int32_t>& owner) {
  const std::int64_t n = std::int64_t(labels.size()), s = n / p;
  std::vector<std::int64_t> ids = permutation(n, stream_seed(seed, kClassesOrder));
  ids.resize(std::size_t(p * s));
  std::stable_sort(ids.begin(), ids.end(), [&](std::int64_t a, std::int64_t b) {
    return labels[std::size_t(a)] < labels[std::size_t(b)];
  });
  const std::int64_t pieces = std::int64_t(p) * k, q = s / k, m = s % k;
  const std::vector<std::int64_t> deal = permutation(pieces, stream_seed(seed, kClassesDeal));
  std::vector<std::int64_t> size(static_cast<std::size_t>(pieces)), worker(static_cast<std::size_t>(pieces));
  for (std::int64_t slot = 0; slot < pieces; ++slot) {  // slot w*k + j: worker w's j-th piece
    const std::size_t piece = std::size_t(deal[std::size_t(slot)]);
    worker[piece] = slot / k;
    size[piece] = q + (slot % k < m ? 1 : 0);
  }
  std::size_t at = 0;
  for (std::size_t piece = 0; piece < std::size_t(pieces); ++piece)
    for (std::int64_t i = 0; i < size[piece]; ++i) owner[std::size_t(ids[at++])] = std::int32_t(worker[piece]);
}

// S split by q in proportion, by largest remainders (ties to the lower class); sums to s.
std::vector<std::int64_t> apportion(std::int64_t s, const std::vector<double>& q) {
  const std::size_t c = q.size();
  std::vector<std::int64_t> t(c);
  std::vector<std::pair<double, std::size_t>> frac(c);
  std::int64_t sum = 0;
  for (std::size_t i = 0; i < c; ++i) {
    const double x = double(s) * q[i];
    t[i] = std::min<std::int64_t>(s, std::int64_t(std::floor(x)));
    sum += t[i];
    frac[i] = {x - std::floor(x), i};
  }
  std::stable_sort(frac.begin(), frac.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  for (std::size_t i = 0; sum < s; i = (i + 1) % c, ++sum) ++t[frac[i].second];
  for (std::size_t i = c; sum > s && i-- > 0;)  // floors cannot exceed s unless q does not sum to 1
    while (sum > s && t[i] > 0) --t[i], --sum;
  return t;
}

void dirichlet_owners(std::span<const std::int32_t> labels, int num_classes, int p, double alpha,
                      std::uint64_t seed, std::vector<std::int32_t>& owner) {
  const std::int64_t n = std::int64_t(labels.size()), s = n / p;
  const std::size_t c = std::size_t(num_classes);
  std::vector<std::vector<std::int64_t>> pool(c);  // each class's ids in a random order
  for (std::int64_t id : permutation(n, stream_seed(seed, kPoolOrder))) pool[std::size_t(labels[std::size_t(id)])].push_back(id);
  std::vector<std::int64_t> next(c, 0);            // pool[c][next[c]..] is c's remaining supply
  auto left = [&](std::size_t k) { return std::int64_t(pool[k].size()) - next[k]; };

  Rng rng(stream_seed(seed, kProportions));
  std::vector<std::vector<double>> q(static_cast<std::size_t>(p));
  for (auto& row : q) row = dirichlet_sample(rng, alpha, num_classes);

  for (std::int64_t r : permutation(p, stream_seed(seed, kWorkerOrder))) {
    const std::vector<std::int64_t> target = apportion(s, q[std::size_t(r)]);
    std::vector<std::int64_t> take(c);
    std::int64_t missing = s;
    for (std::size_t k = 0; k < c; ++k) missing -= take[k] = std::min(target[k], left(k));
    // The rest, one at a time from the class with the most remaining supply (ties: lower class).
    std::priority_queue<std::pair<std::int64_t, std::int64_t>> most;  // (supply, -class)
    for (std::size_t k = 0; k < c; ++k)
      if (left(k) - take[k] > 0) most.push({left(k) - take[k], -std::int64_t(k)});
    for (; missing > 0; --missing) {  // N >= p*S: supply never runs out
      auto [supply, neg] = most.top();
      most.pop();
      ++take[std::size_t(-neg)];
      if (supply > 1) most.push({supply - 1, neg});
    }
    for (std::size_t k = 0; k < c; ++k)
      for (std::int64_t i = 0; i < take[k]; ++i) owner[std::size_t(pool[k][std::size_t(next[k]++)])] = std::int32_t(r);
  }
}

}  // namespace

void check_partition_spec(const PartitionSpec& spec, int num_classes) {
  const std::string at = spec.path.empty() ? "" : spec.path + ".";
  const bool known = num_classes > 0;
  if (spec.kind == Partition::Classes &&
      (spec.classes_per_worker < 1 || (known && spec.classes_per_worker > num_classes)))
    throw InputError("config: '" + at + "classes_per_worker' must be in [1, " +
                     (known ? std::to_string(num_classes) + "] (the data set's classes)" : std::string("classes]")) +
                     ", got " + std::to_string(spec.classes_per_worker));
  if (spec.kind == Partition::Dirichlet && !(spec.dirichlet_alpha > 0 && spec.dirichlet_alpha <= 1e6))
    throw InputError("config: '" + at + "dirichlet_alpha' must be > 0 and at most 1e6, got " +
                     std::to_string(spec.dirichlet_alpha));
}

std::vector<double> dirichlet_sample(Rng& rng, double alpha, int classes) {
  std::vector<double> g(static_cast<std::size_t>(classes));
  for (double& x : g) x = log_gamma_draw(rng, alpha);
  const double top = *std::max_element(g.begin(), g.end());
  double sum = 0;
  for (double& x : g) sum += x = std::exp(x - top);  // the largest is 1: no underflow to all zeros
  for (double& x : g) x /= sum;
  return g;
}

std::vector<std::int32_t> partition_owners(const PartitionSpec& spec, std::span<const std::int32_t> labels,
                                           int num_classes, int workers, std::uint64_t seed) {
  if (spec.kind == Partition::Reshuffle) throw std::invalid_argument("partition_owners: reshuffle owns no samples");
  if (workers < 1) throw InputError("data partition: number of workers must be >= 1, got " + std::to_string(workers));
  check_partition_spec(spec, num_classes);
  check_labels(labels, num_classes);
  const std::int64_t n = std::int64_t(labels.size()), s = n / workers;
  std::vector<std::int32_t> owner(labels.size(), -1);
  if (s == 0) return owner;
  if (spec.kind == Partition::Fixed) {
    const std::vector<std::int64_t> order = ShardSampler::fixed_order(n, seed);
    for (std::int64_t i = 0; i < workers * s; ++i) owner[std::size_t(order[std::size_t(i)])] = std::int32_t(i / s);
  } else if (spec.kind == Partition::Classes) {
    classes_owners(labels, workers, spec.classes_per_worker, seed, owner);
  } else {
    dirichlet_owners(labels, num_classes, workers, spec.dirichlet_alpha, seed, owner);
  }
  return owner;
}

std::vector<std::int64_t> samples_of(std::span<const std::int32_t> owners, int worker) {
  std::vector<std::int64_t> out;
  for (std::size_t i = 0; i < owners.size(); ++i)
    if (owners[i] == worker) out.push_back(std::int64_t(i));
  return out;
}

std::vector<std::int64_t> class_histogram(std::span<const std::int32_t> owners, std::span<const std::int32_t> labels,
                                          int num_classes, int workers) {
  if (owners.size() != labels.size())
    throw std::invalid_argument("class_histogram: " + std::to_string(owners.size()) + " owners for " +
                                std::to_string(labels.size()) + " labels");
  std::vector<std::int64_t> h(std::size_t(workers) * std::size_t(num_classes), 0);
  for (std::size_t i = 0; i < owners.size(); ++i)
    if (owners[i] >= 0 && owners[i] < workers && labels[i] >= 0 && labels[i] < num_classes)
      ++h[std::size_t(owners[i]) * std::size_t(num_classes) + std::size_t(labels[i])];
  return h;
}

}  // namespace gg
