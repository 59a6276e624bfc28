#include "algorithms/spec.hpp"

#include <algorithm>
#include <cmath>

#include "core/util/error.hpp"

namespace gg {

using nlohmann::json;

const char* option_type_name(OptionType t) {
  switch (t) {
    case OptionType::Bool: return "bool";
    case OptionType::Int: return "int";
    case OptionType::Double: return "double";
    case OptionType::String: return "string";
  }
  return "?";
}

namespace {

std::int64_t int_bound(double x, std::int64_t fallback) {
  return std::isfinite(x) ? std::int64_t(x) : fallback;
}

json read_one(const OptionSpec& o, JsonReader& cfg) {
  switch (o.type) {
    case OptionType::Bool: return cfg.get_bool(o.name, o.default_value.get<bool>());
    case OptionType::Int:
      return cfg.get_int(o.name, o.default_value.get<std::int64_t>(), int_bound(o.min, INT64_MIN),
                         int_bound(o.max, INT64_MAX));
    case OptionType::Double: return cfg.get_double(o.name, o.default_value.get<double>(), o.min, o.max);
    case OptionType::String: {
      const std::string s = cfg.get_string(o.name, o.default_value.get<std::string>());
      if (!o.choices.empty() && std::find(o.choices.begin(), o.choices.end(), s) == o.choices.end()) {
        std::string list;
        for (const auto& c : o.choices) list += (list.empty() ? "" : ", ") + c;
        throw InputError("config: '" + cfg.path_of(o.name) + "' must be one of {" + list + "}, got \"" + s + "\"");
      }
      return s;
    }
  }
  return {};
}

}  // namespace

AlgorithmOptions read_algorithm_options(const AlgorithmSpec& spec, JsonReader& cfg) {
  json values = json::object();
  values["name"] = cfg.get_string("name");
  for (const OptionSpec& o : spec.options) values[o.name] = read_one(o, cfg);
  cfg.finish();
  return AlgorithmOptions(std::move(values));
}

AlgorithmOptions algorithm_options(const AlgorithmSpec& spec, const json& block, const std::string& path) {
  json named = block;
  named["name"] = spec.name;
  JsonReader cfg(named, path);
  return read_algorithm_options(spec, cfg);
}

RankLayout rank_layout(const AlgorithmSpec& spec, const AlgorithmOptions& opt, int p, const std::string& path) {
  if (spec.check) spec.check(opt, p, path);
  RankLayout l;
  l.servers = spec.servers_option.empty() ? 0 : int(opt.get_int(spec.servers_option));
  l.workers = p - l.servers;
  if (l.workers < 1) {
    const std::string where = path.empty() ? spec.servers_option : path + "." + spec.servers_option;
    throw InputError("config: '" + where + "' " + std::to_string(l.servers) + " server(s) need at least " +
                     std::to_string(l.servers + 1) + " ranks (the servers plus one worker), got " +
                     std::to_string(p));
  }
  return l;
}

json describe(const AlgorithmSpec& spec) {
  json options = json::array();
  for (const OptionSpec& o : spec.options) {
    json j = {{"name", o.name}, {"type", option_type_name(o.type)}, {"default", o.default_value}, {"doc", o.doc}};
    if (!o.choices.empty()) j["choices"] = o.choices;
    const auto bound = [&](double x) { return o.type == OptionType::Int ? json(std::int64_t(x)) : json(x); };
    if (std::isfinite(o.min)) j["min"] = bound(o.min);
    if (std::isfinite(o.max)) j["max"] = bound(o.max);
    options.push_back(std::move(j));
  }
  return {{"name", spec.name},
          {"summary", spec.summary},
          {"provenance", spec.provenance},
          {"reference", spec.reference},
          {"options", std::move(options)},
          {"layout", {{"servers_option", spec.servers_option.empty() ? json(nullptr) : json(spec.servers_option)}}}};
}

std::vector<json> sweep_variants(const AlgorithmSpec& spec) {
  std::vector<json> out{json{{"name", spec.name}}};
  for (const OptionSpec& o : spec.options) {
    std::vector<json> values = o.sweep;
    if (values.empty()) {
      if (o.type == OptionType::Bool) values = {false, true};
      else if (o.type == OptionType::String && !o.choices.empty())
        for (const auto& c : o.choices) values.emplace_back(c);
      else values = {o.default_value};
    }
    std::vector<json> next;
    for (const json& base : out)
      for (const json& v : values) {
        json b = base;
        b[o.name] = v;
        next.push_back(std::move(b));
      }
    out = std::move(next);
  }
  return out;
}

}  // namespace gg
