#pragma once
// The run log behind the RunSink interface: one HDF5 file per run (see core/log/ for the schema).
#include <memory>
#include <string>

#include "core/comm/communicator.hpp"
#include "core/log/hdf5_run_log.hpp"
#include "core/config/run_config.hpp"
#include "core/model/model.hpp"
#include "core/sim/host_costs.hpp"
#include "core/train/records.hpp"

namespace gg {

// Throws InputError naming the path if the file cannot be created there (the nearest existing folder
// does not accept new files, a name is too long, the path is a directory or another non-regular file,
// or a running gg_train writes the file there). Creates nothing: missing folders are made when the log
// is claimed (core/log/output_claim.hpp), and removed again if the run leaves no log.
void check_output_writable(const std::string& path);

// Opens the run log on rank 0 (the only caller): attributes hold the effective config (every block's
// every option, defaults filled in: cfg.effective), the algorithm's spec (as --describe prints it), git
// revision, host, MPI library and versions, start time; datasets grow at each evaluation. Call it after
// every block has been read, so that cfg.effective is complete.
// costs: what the simulated node charges (core/sim/host_costs.hpp), recorded as the cost_model attribute.
// data: how the training set was split (the /data group), nothing if its partition is empty.
std::unique_ptr<RunSink> open_run_sink(const RunConfig& cfg, const nlohmann::json& algorithm_spec,
                                       Communicator& world, const Model& model, int workers,
                                       const HostCosts& costs, const PartitionRecord& data = {});
// The same for a run resumed from its checkpoint after steps_done steps: claims its existing log (the
// same lock a fresh run takes) and cuts it back to that boundary (Hdf5RunLog's resuming constructor).
// Throws InputError naming the path.
std::unique_ptr<RunSink> open_resumed_run_sink(const RunConfig& cfg, const nlohmann::json& algorithm_spec,
                                               Communicator& world, const Model& model, int workers,
                                               const HostCosts& costs, std::int64_t steps_done);

}  // namespace gg
