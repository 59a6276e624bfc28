#include "core/sim/compute_injection.hpp"

#include <chrono>

#ifdef GG_SMPI
#include <simgrid/actor.h>
#include <simgrid/host.h>
#endif

namespace gg {

#ifdef GG_SMPI

void simulate_compute(double seconds, double flops) {
  // One rank per simulated host, so computing for t seconds and sleeping for t seconds advance this
  // rank's clock identically. Sleeping is used because SimGrid 3.32 makes every finished execution
  // (smpi_execute_flops) scan a per-actor activity list that grows by one entry for each MPI request
  // completed through MPI_Test: the simulator's cost then grows with the square of the steps run.
  const double t = seconds > 0 ? seconds : flops / sg_host_get_speed(sg_host_self());
  if (t > 0) sg_actor_sleep_for(t);
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
