#include "core/sim/compute_profile.hpp"

#include <cmath>
#include <map>

#include "core/config/run_config.hpp"
#include "core/util/error.hpp"
#include "core/util/regular_file.hpp"

namespace gg {

namespace {

double seconds_of(const nlohmann::json& layer, const char* field, const std::string& where) {
  const auto it = layer.find(field);
  if (it == layer.end() || !it->is_number() || !std::isfinite(it->get<double>()) || it->get<double>() < 0)
    throw InputError(where + ": '" + field + "' must be a finite number of seconds >= 0");
  return it->get<double>();
}

}  // namespace

std::vector<ComputeCharge> read_compute_profile(const std::string& path, const std::vector<LayerInfo>& layers,
                                                const std::string& key) {
  const std::string where = key + " (" + path + ")";
  const nlohmann::json doc = parse_config_text(read_text_file(path, key, kMaxConfigBytes), where);
  const auto batch = doc.find("batch");
  if (batch == doc.end() || !batch->is_number_integer() || batch->get<long long>() < 1)
    throw InputError(where + ": 'batch' must be a positive integer (the batch the times were taken at)");
  const auto list = doc.find("layers");
  if (list == doc.end() || !list->is_array()) throw InputError(where + ": 'layers' must be a list");
  const double per_sample = 1.0 / double(batch->get<long long>());
  std::map<std::string, ComputeCharge> by_name;
  for (std::size_t i = 0; i < list->size(); ++i) {
    const nlohmann::json& l = (*list)[i];
    const std::string at = where + ": layers[" + std::to_string(i) + "]";
    if (!l.is_object() || !l.contains("name") || !l["name"].is_string())
      throw InputError(at + " must be an object with a 'name'");
    const std::string name = l["name"].get<std::string>();
    const ComputeCharge c{seconds_of(l, "forward_s", at) * per_sample, seconds_of(l, "backward_s", at) * per_sample};
    if (!by_name.emplace(name, c).second) throw InputError(at + ": layer '" + name + "' is listed twice");
  }
  std::vector<ComputeCharge> out;
  for (const LayerInfo& layer : layers) {
    const auto it = by_name.find(layer.name);
    if (it == by_name.end())
      throw InputError(where + ": has no times for the model's layer '" + layer.name + "' (a profile of another model?)");
    out.push_back(it->second);
    by_name.erase(it);
  }
  if (!by_name.empty())
    throw InputError(where + ": layer '" + by_name.begin()->first + "' is not in the model (a profile of another model?)");
  return out;
}

}  // namespace gg
