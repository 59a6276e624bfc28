#pragma once
// Injected compute time, for proxy models (layers that stand in for a GPU's work without the math).
// Simulation support, not communication: it lives in core/sim/.
//
// simulate_compute(seconds, flops) costs `seconds` of the caller's time:
//   - SMPI build (GG_SMPI): advances this rank's SIMULATED clock by `seconds` (the rank's actor
//     sleeps; with one rank per simulated host this is the same as computing for that long, and it
//     avoids a SimGrid 3.32 cost that grows with the run, see compute_injection.cpp). With
//     seconds <= 0, the time is flops / the simulated host's speed.
//   - normal build: busy-waits `seconds` on the steady clock (to about a microsecond); with
//     seconds <= 0, flops / kNominalFlops seconds.
// This is the only place in the engine that knows whether it runs under SMPI.
namespace gg {

// Speed assumed for flops-only calls outside SMPI (1 TFLOP/s, roughly a 2016 GPU on real nets).
inline constexpr double kNominalFlops = 1e12;

void simulate_compute(double seconds, double flops = 0.0);

// True when built for SimGrid SMPI (for log attributes and tools; never for control flow in kernels).
bool built_for_smpi();

}  // namespace gg
