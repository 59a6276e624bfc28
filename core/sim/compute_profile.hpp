#pragma once
// Charged compute for REAL layers on the simulated cluster. Under SMPI a real layer's arithmetic costs
// no simulated time (ggbench/run_smpi.py runs with simulate-computation off, so runs are deterministic):
// a real-math run's simulated clock would hold communication alone. `sim.compute_profile` names a model
// profile (experiments/profiles/*.json, written by gg_profile or derived from published numbers); every
// layer then also charges the profile's time for it, scaled to the batch it ran:
//   forward of layer i on n samples  charges  forward_s[i] * n / profile.batch * compute_scale
//   backward                          charges  backward_s[i] * n / profile.batch * compute_scale
// (compute_scale: the step's noise factor, core/sim/compute_noise.hpp). Evaluation is a measurement,
// not training, and charges nothing. The profile must name exactly the model's layers, in any order;
// anything else is an InputError naming the key. Only an SMPI build accepts the key: in a normal build the
// charge would be a busy-wait on top of the real arithmetic (core/sim/compute_injection.hpp).
//
// Profile format (the subset read here):
//   {"batch": 64, "layers": [{"name": "conv1", "forward_s": 0.0013, "backward_s": 0.0012}, ...]}
#include <string>
#include <vector>

#include "core/model/model.hpp"

namespace gg {

// Per-sample charges in the model's layer order. `key` names the config key in messages.
std::vector<ComputeCharge> read_compute_profile(const std::string& path, const std::vector<LayerInfo>& layers,
                                                const std::string& key);

}  // namespace gg
