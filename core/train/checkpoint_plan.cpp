#include "core/train/checkpoint_plan.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "core/log/output_claim.hpp"
#include "core/util/build_info.hpp"
#include "core/util/error.hpp"
#include "core/util/message.hpp"
#include "core/util/regular_file.hpp"

namespace gg {

namespace fs = std::filesystem;

void check_checkpoint_folder(const std::string& log_path) {
  const std::string dir = CheckpointStore::dir_for(log_path);
  const auto bad = [&](const std::string& why) {
    throw InputError("output.path: its checkpoint folder " + shown(dir) + " " + why);
  };
  std::error_code ec_dir, ec_log;
  const fs::path dir_real = fs::weakly_canonical(dir, ec_dir), log_real = fs::weakly_canonical(log_path, ec_log);
  if (!ec_dir && !ec_log && dir_real == log_real) bad("is the run log itself");
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) {
    const int err = errno;
    if (err == ENOENT) {
      struct stat l {};
      if (::lstat(dir.c_str(), &l) == 0) bad("is a symbolic link to nothing");
      return;  // made at the first checkpoint, in the log's folder
    }
    bad(std::string("cannot be accessed (") + std::strerror(err) + ")");
  }
  if (!S_ISDIR(st.st_mode)) bad("is " + (S_ISREG(st.st_mode) ? std::string("a regular file") : file_kind(st.st_mode)) + ", not a folder");
  // Writable: the only reliable test is to try (permissions, read-only mounts, ACLs).
  const std::string probe = dir + "/.gg_train.probe-" + std::to_string(getpid());
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) bad(std::string("does not accept new files (") + std::strerror(errno) + ")");
  ::close(fd);
  ::unlink(probe.c_str());
  // Claimed by another live run: its committed manifest names another log, which a live run writes.
  const std::optional<CheckpointManifest> m = CheckpointStore(dir, 0, 1).latest();
  if (!m || !m->config.is_object()) return;
  const auto out = m->config.find("output");
  if (out == m->config.end() || !out->is_object() || !out->contains("path") || !(*out)["path"].is_string()) return;
  const std::string other = (*out)["path"].get<std::string>();
  std::error_code ec;
  const fs::path other_real = fs::weakly_canonical(other, ec);
  if (ec || other_real == log_real) return;
  if (const std::string holder = OutputClaim::holder_of(other); !holder.empty())
    bad("is claimed by another live run: it holds the checkpoint of " + shown(other, 60) + " (" + holder +
        "); choose another output.path");
}

std::vector<std::string> resumable_config_changes() {
  return {"train.log_every", "train.checkpoint_every", "train.checkpoint_minutes", "train.stop_check_every"};
}

void clear_stale_checkpoints(const CheckpointSetup& setup, const Communicator& world) {
  if (!setup.plan || world.rank() != 0) return;
  struct stat st {};
  if (::lstat(setup.plan->stop_file.c_str(), &st) == 0 && S_ISREG(st.st_mode)) ::unlink(setup.plan->stop_file.c_str());
  if (!setup.plan->resume && !setup.already_finished) CheckpointStore::clear(setup.plan->store.dir());
}

namespace {

// The folder this log's checkpoints went to before each log had its own (the log's extension replaced
// by .ckpt: run.h5 -> run.ckpt), if it holds a committed checkpoint of this very log (its config's
// output.path names it): "" otherwise.
std::string legacy_folder(const std::string& log_path) {
  fs::path p(log_path);
  p.replace_extension(".ckpt");
  const std::string old = p.string();
  if (old == CheckpointStore::dir_for(log_path)) return "";
  try {
    const std::optional<CheckpointManifest> m = CheckpointStore(old, 0, 1).latest();
    if (!m || !m->config.is_object() || !m->config.contains("output")) return "";
    const nlohmann::json& out = m->config["output"];
    if (!out.is_object() || !out.contains("path") || !out["path"].is_string()) return "";
    std::error_code a, b;
    return fs::weakly_canonical(out["path"].get<std::string>(), a) == fs::weakly_canonical(log_path, b) && !a && !b
               ? old : "";
  } catch (const InputError&) {
    return "";  // not readable as a checkpoint: not this log's
  }
}

}  // namespace

CheckpointSetup plan_checkpoints(const RunConfig& cfg, const std::string& algorithm, int workers,
                                 Communicator& world, bool resume) {
  CheckpointSetup setup;
  if (cfg.output.empty()) {
    if (resume) throw InputError("--resume: 'output.path' is empty: there is no run log, and no checkpoint, to continue");
    return setup;
  }
  const std::string dir = CheckpointStore::dir_for(cfg.output);
  const TrainOptions& t = cfg.train;
  setup.plan = std::make_unique<CheckpointPlan>(CheckpointPlan{CheckpointStore(dir, world.rank(), world.size()), {}, false, {}, {}, {}});
  CheckpointPlan& plan = *setup.plan;
  plan.stop_file = cfg.output + ".stop";
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
    if (const std::string old = m ? "" : legacy_folder(cfg.output); !old.empty())
      if (const auto o = CheckpointStore(old, 0, 1).latest(); o && !o->final)
        throw InputError("output.path: " + old + " (the checkpoint folder name of older builds) holds the checkpoint "
                         "of this log's unfinished run (after step " + std::to_string(o->step) + "): rename it to " +
                         fs::path(dir).filename().string() + " and continue it with --resume, or remove it");
    return setup;
  }
  if (!m) {
    if (const std::string old = legacy_folder(cfg.output); !old.empty())
      throw InputError("--resume: " + old + " holds this log's checkpoint under the folder name of older builds: "
                       "rename it to " + fs::path(dir).filename().string() + " and resume again");
    throw InputError("--resume: no checkpoint in " + dir + " (no LATEST: the run wrote none; start it without --resume)");
  }
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
