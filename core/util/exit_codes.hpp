#pragma once
// gg_train's exit codes, in one place. Under mpiexec, codes 2 and 4 are returned by every rank on its
// own (the ranks agree first); 3 and 5 end the job through MPI_Abort, which mpiexec passes on.
namespace gg::exit_code {

inline constexpr int kBadInput = 2;       // config, data, command line, output path or memory, at set-up
inline constexpr int kTrainingError = 3;  // an error on one rank during training (the job is aborted)
inline constexpr int kDiverged = 4;       // the health check found a diverged run (every rank)
inline constexpr int kStalled = 5;        // the stall watchdog ended a job stuck in communication

}  // namespace gg::exit_code
