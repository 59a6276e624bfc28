#include "core/train/run_sink_factory.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "core/log/hdf5_run_log.hpp"
#include "core/util/error.hpp"

namespace gg {

namespace fs = std::filesystem;

namespace {

[[noreturn]] void bad_output(const std::string& path, const std::string& reason) {
  throw InputError("output.path: " + path + ": " + reason);
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
  if (!target.has_filename()) bad_output(path, "expected a file name, not a directory");
  const fs::path dir = target.parent_path().empty() ? fs::path(".") : target.parent_path();
  if (!fs::exists(dir, ec)) {
    fs::create_directories(dir, ec);
    if (ec) bad_output(path, "cannot create directory " + dir.string() + " (" + ec.message() + ")");
  } else if (!fs::is_directory(dir, ec)) {
    bad_output(path, dir.string() + " is not a directory");
  }
  // The only reliable test is to try: a uniquely named probe next to the target, removed at once.
  const fs::path probe = dir / ("." + target.filename().string() + ".probe-" + std::to_string(getpid()));
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0) {
    const std::string why = errno == ENOENT ? "it does not accept new files" : std::strerror(errno);
    bad_output(path, "directory is not writable (" + why + ")");
  }
  ::close(fd);
  ::unlink(probe.c_str());
  if (fs::exists(target, ec) && ::access(target.c_str(), W_OK) != 0)
    bad_output(path, std::string("existing file is not writable (") + std::strerror(errno) + ")");
}

namespace {

RunLogInfo run_log_info(const RunConfig& cfg, const nlohmann::json& algorithm_spec, Communicator& world,
                        const Model& model, int workers) {
  RunLogInfo info;
  info.config_json = cfg.effective->dump(2);
  info.algorithm_spec = algorithm_spec.dump();
  info.mpi_library = world.library_version();
  info.model_layers = layer_table(model);
  info.workers = workers;
  info.ranks = world.size();
  info.num_params = std::int64_t(model.num_params());
  return info;
}

}  // namespace

std::unique_ptr<RunSink> open_resumed_run_sink(const RunConfig& cfg, const nlohmann::json& algorithm_spec,
                                               Communicator& world, const Model& model, int workers,
                                               std::int64_t steps_done) {
  const RunLogInfo info = run_log_info(cfg, algorithm_spec, world, model, workers);
  try {
    return std::make_unique<Hdf5RunLog>(cfg.output, info, steps_done);
  } catch (const std::runtime_error& e) {
    throw InputError(std::string("output.path: ") + e.what());
  }
}

std::unique_ptr<RunSink> open_run_sink(const RunConfig& cfg, const nlohmann::json& algorithm_spec,
                                       Communicator& world, const Model& model, int workers) {
  const RunLogInfo info = run_log_info(cfg, algorithm_spec, world, model, workers);
  try {
    return std::make_unique<Hdf5RunLog>(cfg.output, info);
  } catch (const std::runtime_error& e) {  // creating the file is the user's environment, not a bug
    throw InputError(std::string("output.path: ") + e.what());
  }
}

}  // namespace gg
