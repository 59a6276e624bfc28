#pragma once
// The run log behind the RunSink interface: one HDF5 file per run (see core/log/ for the schema).
#include <memory>
#include <string>

#include "core/comm/communicator.hpp"
#include "core/config/run_config.hpp"
#include "core/model/model.hpp"
#include "core/train/records.hpp"

namespace gg {

// Throws InputError naming the path if the file cannot be created there (directory missing and not
// creatable, not writable, or the path is a directory). Leaves nothing behind.
void check_output_writable(const std::string& path);

// Opens the run log on rank 0 (the only caller): attributes hold the effective config (every block's
// every option, defaults filled in: cfg.effective), the algorithm's spec (as --describe prints it), git
// revision, host, MPI library and versions, start time; datasets grow at each evaluation. Call it after
// every block has been read, so that cfg.effective is complete.
std::unique_ptr<RunSink> open_run_sink(const RunConfig& cfg, const nlohmann::json& algorithm_spec,
                                       Communicator& world, const Model& model, int workers);
// The same for a run resumed from its checkpoint after steps_done steps: opens its existing log and
// cuts it back to that boundary (Hdf5RunLog's resuming constructor). Throws InputError naming the path.
std::unique_ptr<RunSink> open_resumed_run_sink(const RunConfig& cfg, const nlohmann::json& algorithm_spec,
                                               Communicator& world, const Model& model, int workers,
                                               std::int64_t steps_done);

}  // namespace gg
