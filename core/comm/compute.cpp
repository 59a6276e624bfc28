#include "core/comm/compute.hpp"

#include <chrono>

#ifdef GG_SMPI
#include <simgrid/host.h>
#include <smpi/smpi.h>
#endif

namespace gg {

#ifdef GG_SMPI

void simulate_compute(double seconds, double flops) {
  const double speed = sg_host_get_speed(sg_host_self());  // flop/s of this rank's simulated host
  const double work = seconds > 0 ? seconds * speed : flops;
  if (work > 0) smpi_execute_flops(work);
}

bool built_for_smpi() { return true; }

#else

void simulate_compute(double seconds, double flops) {
  if (seconds <= 0) seconds = flops / kNominalFlops;
  if (seconds <= 0) return;
  using clock = std::chrono::steady_clock;
  const auto end = clock::now() + std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(seconds));
  while (clock::now() < end) {
  }
}

bool built_for_smpi() { return false; }

#endif

}  // namespace gg
