#include "core/sim/compute_noise.hpp"

#include <cmath>
#include <numeric>
#include <vector>

#include "core/util/error.hpp"
#include "core/util/rng.hpp"

namespace gg {

namespace {
constexpr std::uint64_t kJitterSalt = 0x6a69747465720001ull;  // keeps noise streams apart from data streams
constexpr std::uint64_t kSlowSalt = 0x736c6f7772616e6bull;
}  // namespace

ComputeNoiseOptions read_compute_noise(JsonReader& sim) {
  ComputeNoiseOptions o;
  o.jitter = sim.get_string("jitter", "none", {"none", "lognormal", "uniform"});
  o.width = sim.get_double("jitter_width", 0.0, 0.0, 2.0);
  if (o.jitter == "uniform" && o.width >= 1.0)
    throw InputError(sim.path_of("jitter_width") + ": a uniform jitter's half-width must be below 1 (got " +
                     std::to_string(o.width) + ")");
  o.slow_workers = int(sim.get_int("slow_workers", 0, 0, 1 << 20));
  o.slow_factor = sim.get_double("slow_factor", 1.5, 1.0, 1000.0);
  return o;
}

ComputeNoise::ComputeNoise(const ComputeNoiseOptions& o, std::uint64_t seed, int worker, int workers)
    : width_(o.width), seed_(seed), worker_(worker) {
  if (o.slow_workers > workers)
    throw InputError("sim.slow_workers: " + std::to_string(o.slow_workers) + " slow workers, but the run has " +
                     std::to_string(workers));
  if (o.jitter == "lognormal" && o.width > 0) dist_ = Dist::LogNormal;
  if (o.jitter == "uniform" && o.width > 0) dist_ = Dist::Uniform;
  if (o.slow_workers > 0) {  // the first slow_workers of a seeded permutation of the workers
    std::vector<int> order(static_cast<std::size_t>(workers));
    std::iota(order.begin(), order.end(), 0);
    Rng rng(seed_of(seed, kSlowSalt));
    for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);
    for (int k = 0; k < o.slow_workers; ++k) slow_ = slow_ || order[std::size_t(k)] == worker;
    if (slow_) slow_mult_ = o.slow_factor;
  }
}

double ComputeNoise::factor(std::int64_t step) const {
  double f = slow_mult_;
  if (dist_ == Dist::None) return f;
  Rng rng(seed_of(seed_ ^ kJitterSalt, std::uint64_t(step), std::uint64_t(worker_)));
  if (dist_ == Dist::LogNormal) {
    const double z = rng.normal();
    f *= std::exp(width_ * z - 0.5 * width_ * width_);
  } else {
    f *= 1.0 + width_ * (2.0 * double(rng.uniform()) - 1.0);
  }
  return f;
}

}  // namespace gg
