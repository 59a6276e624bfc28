#include "core/train/checkpoint_plan.hpp"

#include "core/util/build_info.hpp"
#include "core/util/error.hpp"

namespace gg {

std::vector<std::string> resumable_config_changes() {
  return {"train.log_every", "train.checkpoint_every", "train.checkpoint_minutes", "train.stop_check_every"};
}

void clear_stale_checkpoints(const CheckpointSetup& setup, const Communicator& world) {
  if (setup.plan && !setup.plan->resume && !setup.already_finished && world.rank() == 0)
    CheckpointStore::clear(setup.plan->store.dir());
}

CheckpointSetup plan_checkpoints(const RunConfig& cfg, const std::string& algorithm, int workers,
                                 Communicator& world, bool resume) {
  CheckpointSetup setup;
  if (cfg.output.empty()) {
    if (resume) throw InputError("--resume: 'output.path' is empty: there is no run log, and no checkpoint, to continue");
    return setup;
  }
  const std::string dir = CheckpointStore::dir_for(cfg.output);
  const TrainOptions& t = cfg.train;
  setup.plan = std::make_unique<CheckpointPlan>(CheckpointPlan{CheckpointStore(dir, world.rank(), world.size()), {}, false, {}, {}});
  CheckpointPlan& plan = *setup.plan;
  plan.manifest.ranks = world.size();
  plan.manifest.workers = workers;
  plan.manifest.algorithm = algorithm;
  plan.manifest.config = *cfg.effective;
  plan.manifest.git_revision = build_info().git_revision;
  plan.final_checkpoint = t.checkpoint_every > 0 || t.checkpoint_minutes > 0 || resume;
  const std::optional<CheckpointManifest> m = plan.store.latest();
  if (!resume) {  // a finished run's checkpoints are cleared when this run starts (clear_stale)
    if (m && !m->final)
      throw InputError("output.path: " + dir + " holds the checkpoint of an unfinished run (after step " +
                       std::to_string(m->step) + "): continue it with --resume (unless it is still running), or "
                       "remove that folder to start over");
    return setup;
  }
  if (!m) throw InputError("--resume: no checkpoint in " + dir + " (no LATEST: the run wrote none; start it without --resume)");
  const std::string latest = dir + "/LATEST";
  if (m->ranks != world.size() || m->workers != workers)
    throw InputError("--resume: " + latest + " was written by " + std::to_string(m->ranks) + " ranks (" +
                     std::to_string(m->workers) + " workers); this job has " + std::to_string(world.size()) + " (" +
                     std::to_string(workers) + ")");
  if (m->algorithm != algorithm)
    throw InputError("--resume: " + latest + " is a checkpoint of algorithm '" + m->algorithm + "', not '" + algorithm + "'");
  const std::string diff = first_config_difference(m->config, *cfg.effective, resumable_config_changes());
  if (!diff.empty()) throw InputError("--resume: the config differs from the checkpointed run's at " + diff);
  if (m->final) {
    setup.already_finished = m;
    return setup;
  }
  nlohmann::json header;
  plan.resume = plan.store.read(*m, &header);
  plan.resume_source = plan.store.rank_file(m->step);
  if (header.value("algorithm", "") != algorithm)
    throw InputError("checkpoint: " + plan.resume_source + ": written by algorithm '" + header.value("algorithm", "?") + "'");
  setup.resume_step = m->step;
  return setup;
}

}  // namespace gg
