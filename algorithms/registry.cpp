#include "algorithms/registry.hpp"

#include "core/util/error.hpp"

namespace gg {

// Each algorithm file defines one of these.
AlgorithmSpec allreduce_spec();
AlgorithmSpec ps_spec();
AlgorithmSpec gossip_spec();
AlgorithmSpec gossipgrad_spec();
AlgorithmSpec local_sgd_spec();
AlgorithmSpec sgp_spec();
AlgorithmSpec dpsgd_spec();
AlgorithmSpec adpsgd_spec();
AlgorithmSpec gossip_pga_spec();

std::vector<AlgorithmSpec> algorithm_specs() {
  return {
      allreduce_spec(),
      ps_spec(),
      gossip_spec(),
      gossipgrad_spec(),
      local_sgd_spec(),
      sgp_spec(),
      dpsgd_spec(),
      adpsgd_spec(),
      gossip_pga_spec(),
  };
}

std::vector<std::string> algorithm_names() {
  std::vector<std::string> names;
  for (const AlgorithmSpec& s : algorithm_specs()) names.push_back(s.name);
  return names;
}

AlgorithmSpec find_algorithm(const std::string& name, const std::string& path) {
  std::vector<AlgorithmSpec> specs = algorithm_specs();
  std::string known;
  for (AlgorithmSpec& s : specs) {
    if (s.name == name) return std::move(s);
    known += (known.empty() ? "" : ", ") + s.name;
  }
  throw InputError("config: '" + path + "' unknown algorithm '" + name + "' (known: " + known + ")");
}

std::unique_ptr<Algorithm> make_algorithm(JsonReader& cfg, AlgorithmEnv env) {
  const AlgorithmSpec spec = find_algorithm(cfg.get_string("name"), cfg.path_of("name"));
  const AlgorithmOptions opt = read_algorithm_options(spec, cfg);
  rank_layout(spec, opt, env.comm.size(), cfg.path());
  return spec.make(opt, env);
}

}  // namespace gg
