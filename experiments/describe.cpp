#include "experiments/describe.hpp"

#include <algorithm>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "algorithms/registry.hpp"
#include "core/data/datasets.hpp"
#include "core/data/sampler.hpp"
#include "core/layers/registry.hpp"
#include "core/model/model_builder.hpp"
#include "core/util/build_info.hpp"

namespace gg {

namespace {

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string part; std::getline(ss, part, ',');)
    if (!part.empty()) out.push_back(part);
  return out;
}

// SMPI platform files shipped with the sources (empty when the sources are not next to the binary).
std::vector<std::string> platforms() {
  namespace fs = std::filesystem;
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(fs::path(GG_SOURCE_DIR) / "experiments" / "platforms", ec))
    if (e.path().extension() == ".xml") out.push_back(e.path().stem().string());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

nlohmann::json describe_registries() {
  const BuildInfo b = build_info();
  nlohmann::json algorithms = nlohmann::json::array();
  for (const AlgorithmSpec& s : algorithm_specs()) algorithms.push_back(describe(s));
  return {{"version", {{"git", b.git_revision}, {"build_type", b.build_type}, {"backends", split_commas(b.backends)}}},
          {"algorithms", std::move(algorithms)},
          {"models", model_names()},
          {"layers", layer_types()},
          {"datasets", dataset_names()},
          {"partitions", partition_names()},
          {"platforms", platforms()}};
}

}  // namespace gg
