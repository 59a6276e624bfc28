#include "core/train/run_sink_factory.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "core/log/hdf5_run_log.hpp"
#include "core/log/output_claim.hpp"
#include "core/util/error.hpp"
#include "core/util/message.hpp"
#include "core/util/regular_file.hpp"

namespace gg {

namespace fs = std::filesystem;

namespace {

[[noreturn]] void bad_output(const std::string& path, const std::string& reason) {
  throw InputError("output.path: " + shown(path) + ": " + reason);
}

std::string layer_table(const Model& model) {
  nlohmann::json layers = nlohmann::json::array();
  for (const LayerInfo& l : model.layers())
    layers.push_back({{"name", l.name}, {"kind", l.kind}, {"out", l.out.str()}, {"params", l.params},
                      {"mflops", l.forward_flops_per_sample / 1e6}});
  return layers.dump();
}

}  // namespace

void check_output_writable(const std::string& path) {
  if (path.empty()) bad_output(path, "empty path");
  const fs::path target(path);
  std::error_code ec;
  if (fs::is_directory(target, ec)) bad_output(path, "is a directory, expected a file name");
  if (fs::exists(target, ec) && !fs::is_regular_file(target, ec)) {
    struct stat st {};
    ::stat(path.c_str(), &st);
    bad_output(path, "is " + file_kind(st.st_mode) + ", not a regular file");
  }
  if (!target.has_filename()) bad_output(path, "expected a file name, not a directory");
  const fs::path dir = target.parent_path().empty() ? fs::path(".") : target.parent_path();
  // The nearest folder that exists: missing ones are made only when the log is claimed (OutputClaim),
  // so that a run that fails leaves none behind. Each name to be made must fit the file system.
  fs::path existing = dir;
  std::vector<std::string> missing{target.filename().string()};
  while (!fs::exists(existing, ec)) {
    missing.push_back(existing.filename().string());
    existing = existing.has_parent_path() && existing.parent_path() != existing ? existing.parent_path() : fs::path(".");
  }
  if (!fs::is_directory(existing, ec)) bad_output(path, shown(existing.string()) + " is not a directory");
  const long name_max = ::pathconf(existing.c_str(), _PC_NAME_MAX);
  for (const std::string& name : missing)
    if (name_max > 0 && name.size() + 6 > std::size_t(name_max))  // 6: the staging file's ".NAME.part"
      bad_output(path, "the name " + shown(name, 40) + " is " + std::to_string(name.size()) +
                           " bytes long; this file system allows " + std::to_string(name_max - 6));
  // The only reliable test is to try: a uniquely named probe in that folder, removed at once.
  const fs::path probe = existing / (".gg_train.probe-" + std::to_string(getpid()));
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0) {
    const std::string why = errno == ENOENT ? "it does not accept new files" : std::strerror(errno);
    bad_output(path, "cannot create files in " + shown(existing.string()) + " (" + why + ")");
  }
  ::close(fd);
  ::unlink(probe.c_str());
  if (fs::exists(target, ec) && ::access(target.c_str(), W_OK) != 0)
    bad_output(path, std::string("existing file is not writable (") + std::strerror(errno) + ")");
  if (const std::string holder = OutputClaim::holder_of(path); !holder.empty())
    bad_output(path, holder + "; choose another output.path or wait until it ends");
}

namespace {

RunLogInfo run_log_info(const RunConfig& cfg, const nlohmann::json& algorithm_spec, Communicator& world,
                        const Model& model, int workers, const HostCosts& costs) {
  RunLogInfo info;
  info.config_json = cfg.effective->dump(2);
  info.algorithm_spec = algorithm_spec.dump();
  info.mpi_library = world.library_version();
  info.cost_model = nlohmann::json{{"mem_GBps", costs.mem_Bps / 1e9},
                                   {"staging_GBps", costs.staging_Bps / 1e9},
                                   {"progress_us", costs.progress_s * 1e6},
                                   {"source", costs.source}}
                        .dump();
  info.model_layers = layer_table(model);
  info.workers = workers;
  info.ranks = world.size();
  info.num_params = std::int64_t(model.num_params());
  return info;
}

}  // namespace

std::unique_ptr<RunSink> open_resumed_run_sink(const RunConfig& cfg, const nlohmann::json& algorithm_spec,
                                               Communicator& world, const Model& model, int workers,
                                               const HostCosts& costs, std::int64_t steps_done) {
  const RunLogInfo info = run_log_info(cfg, algorithm_spec, world, model, workers, costs);
  try {
    return std::make_unique<Hdf5RunLog>(cfg.output, info, steps_done);
  } catch (const InputError&) {  // the claim's own message
    throw;
  } catch (const std::runtime_error& e) {
    throw InputError(std::string("output.path: ") + e.what());
  }
}

std::unique_ptr<RunSink> open_run_sink(const RunConfig& cfg, const nlohmann::json& algorithm_spec,
                                       Communicator& world, const Model& model, int workers,
                                       const HostCosts& costs, const PartitionRecord& data) {
  RunLogInfo info = run_log_info(cfg, algorithm_spec, world, model, workers, costs);
  info.data = data;
  try {
    return std::make_unique<Hdf5RunLog>(cfg.output, info);
  } catch (const InputError&) {  // the claim's own message
    throw;
  } catch (const std::runtime_error& e) {  // creating the file is the user's environment, not a bug
    throw InputError(std::string("output.path: ") + e.what());
  }
}

}  // namespace gg
