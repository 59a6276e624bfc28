#pragma once
// How one run checkpoints and whether it resumes: built by gg_train on every rank once the run is set
// up (every config block read), used by the Trainer.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/comm/communicator.hpp"
#include "core/config/run_config.hpp"
#include "core/train/checkpoint_store.hpp"

namespace gg {

struct CheckpointPlan {
  CheckpointStore store;
  CheckpointManifest manifest;    // what each commit records (step and final are set per commit)
  bool final_checkpoint = false;  // also one after the last step (the trained model, state complete)
  std::optional<std::vector<std::byte>> resume;  // this rank's state to continue from
  std::string resume_source;      // its file, for messages
  std::string stop_file;          // <output.path>.stop: a stop request (core/train/run_control.hpp)
};

struct CheckpointSetup {
  std::unique_ptr<CheckpointPlan> plan;  // null: the run has no log, so no checkpoints
  std::int64_t resume_step = -1;         // --resume: the boundary it continues from
  std::optional<CheckpointManifest> already_finished;  // --resume of a run whose final checkpoint exists
};

// Set-up, with the output path (rank 0, before anything is written): the checkpoint folder of the log
// at log_path (CheckpointStore::dir_for) is usable: absent (made at the first checkpoint, next to the
// log, whose folder check_output_writable has checked), or a folder this process can create files in;
// it is not the log itself; and no other live run claims it (its LATEST names another log that a
// running gg_train writes). Creates nothing. Throws InputError "output.path: its checkpoint folder
// DIR ...".
void check_checkpoint_folder(const std::string& log_path);

// Config keys a resumed run may change: they decide only when to log, checkpoint and agree.
std::vector<std::string> resumable_config_changes();

// Plans the checkpoints of a run with this config (cfg.effective complete), algorithm and rank layout.
// Without resume: refuses to start over a checkpoint of an unfinished run at the same output.path (the
// user continues it with --resume or removes it). With resume: reads LATEST, checks it against this job
// (ranks, workers, algorithm, config up to resumable_config_changes()) and reads this rank's file.
// Writes nothing. Throws InputError naming the file or key.
CheckpointSetup plan_checkpoints(const RunConfig& cfg, const std::string& algorithm, int workers,
                                 Communicator& world, bool resume);
// A fresh run, once every rank has agreed to start: rank 0 removes the checkpoints of the finished run
// that last wrote to this output.path (they describe a log this run replaces). Every run (fresh or
// resumed): rank 0 removes a stop request file left from before it started (the one that stopped the
// run being resumed).
void clear_stale_checkpoints(const CheckpointSetup& setup, const Communicator& world);

}  // namespace gg
