#pragma once
// What a simulated node charges for work the proxy model does not: memory-bound host work, GPU
// staging and progress calls. The values come from the platform file (properties of the <cluster>,
// each documented there with its source); outside SMPI nothing is charged, because real hardware
// charges itself. Used by MeteredCommunicator (core/comm/metered_communicator.hpp).
//
// Platform properties (plain numbers; a missing property charges nothing):
//   gg_mem_GBps        memory bandwidth of host/device memory-bound passes, GB/s (10^9 bytes/s)
//   gg_staging_GBps    device<->host copy bandwidth for every buffer MPI moves (PCIe, NVLink-C2C), GB/s;
//                      absent or 0 on CPU nodes and where GPUDirect RDMA is declared
//   gg_progress_us     time one progress call (MPI_Test) costs the rank, microseconds
#include <cstddef>
#include <string>

namespace gg {

struct HostCosts {
  double mem_Bps = 0;      // 0: memory-bound work is not charged
  double staging_Bps = 0;  // 0: no staging charge
  double progress_s = 0;   // per progress call
  std::string source;      // where the values come from, for the run log

  double memory_s(std::size_t bytes) const { return mem_Bps > 0 ? double(bytes) / mem_Bps : 0.0; }
  double staging_s(std::size_t bytes) const { return staging_Bps > 0 ? double(bytes) / staging_Bps : 0.0; }
  bool charges_anything() const { return mem_Bps > 0 || staging_Bps > 0 || progress_s > 0; }
};

// This rank's costs: under SMPI from its simulated host's properties (InputError on a malformed or
// negative value, naming the property); otherwise none (source says so).
HostCosts host_costs();

// Spends `seconds` of this rank's time on charged work: simulated time under SMPI, nothing otherwise.
void charge_time(double seconds);

}  // namespace gg
