#include "algorithms/registry.hpp"

#include <iterator>

#include "core/util/error.hpp"

namespace gg {

namespace {

using Factory = std::unique_ptr<Algorithm> (*)(JsonReader&, const AlgorithmEnv&);
struct Entry {
  const char* name;
  Factory make;
};

// One line per algorithm.
constexpr Entry kAlgorithms[] = {
    {"allreduce", make_allreduce},
    {"gossip", make_gossip},
    {"gossipgrad", make_gossipgrad},
    {"ps", make_ps},
};

}  // namespace

std::vector<std::string> algorithm_names() {
  std::vector<std::string> names;
  for (const Entry& e : kAlgorithms) names.emplace_back(e.name);
  return names;
}

std::unique_ptr<Algorithm> make_algorithm(JsonReader& cfg, AlgorithmEnv env) {
  const std::string name = cfg.get_string("name");
  for (const Entry& e : kAlgorithms)
    if (name == e.name) return e.make(cfg, env);
  std::string known;
  for (const Entry& e : kAlgorithms) known += (known.empty() ? "" : ", ") + std::string(e.name);
  throw InputError("config: '" + cfg.path_of("name") + "' unknown algorithm '" + name + "' (known: " + known + ")");
}

}  // namespace gg
