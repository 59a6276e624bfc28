#pragma once
// Compute noise for the simulated cluster: ranks are never perfectly equal. Each worker's injected
// compute time at step t is multiplied by factor(t) = jitter(seed, t, worker) x (slow_factor if the
// worker is one of the slow ones). With dist "none" and no slow workers the factor is exactly 1 and a
// run is bit-for-bit the run without noise. Config block `sim` (recorded in the effective config):
//   sim.jitter        "none" (default) | "lognormal" (factor exp(w z - w^2/2), mean 1, z ~ N(0,1))
//                     | "uniform" (factor uniform in [1 - w, 1 + w])
//   sim.jitter_width  w (lognormal: sigma of the log; uniform: half-width < 1)
//   sim.slow_workers  how many workers are persistently slow (a seeded choice), default 0
//   sim.slow_factor   their compute multiplier (>= 1), default 1.5
// The factor scales injected compute only: proxy layers, and real layers charging sim.compute_profile
// (core/sim/compute_profile.hpp); real arithmetic takes what the CPU takes.
#include <cstdint>
#include <string>

#include "core/config/json_reader.hpp"

namespace gg {

struct ComputeNoiseOptions {
  std::string jitter = "none";
  double width = 0;
  int slow_workers = 0;
  double slow_factor = 1.5;
};

// Reads the `sim` block's noise keys (InputError naming the key on bad values).
ComputeNoiseOptions read_compute_noise(JsonReader& sim);

class ComputeNoise {
 public:
  ComputeNoise() = default;  // no noise
  // InputError if slow_workers exceeds workers.
  ComputeNoise(const ComputeNoiseOptions& o, std::uint64_t seed, int worker, int workers);
  double factor(std::int64_t step) const;
  bool slow() const { return slow_; }

 private:
  enum class Dist { None, LogNormal, Uniform } dist_ = Dist::None;
  double width_ = 0, slow_mult_ = 1;
  bool slow_ = false;
  std::uint64_t seed_ = 0;
  int worker_ = 0;
};

}  // namespace gg
