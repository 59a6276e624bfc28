#pragma once
// The algorithm registry: every algorithm's spec (spec.hpp), in one table in registry.cpp. Adding an
// algorithm = its file defining `AlgorithmSpec NAME_spec()` + one row in registry.cpp.
//
// Config block (JSON "algorithm"): {"name": NAME, option: value, ...}; the options, their types,
// defaults and ranges are in each spec (`gg_train --describe` prints them all).
// Construction does not communicate, so a bad input throws InputError on every rank alike.
#include <memory>
#include <string>
#include <vector>

#include "algorithms/spec.hpp"

namespace gg {

// Every registered algorithm, in the registry's order (built on each call: no global state).
std::vector<AlgorithmSpec> algorithm_specs();
std::vector<std::string> algorithm_names();
// The spec called `name`; throws InputError naming `path` (listing the known names) if there is none.
AlgorithmSpec find_algorithm(const std::string& name, const std::string& path);

// Reads cfg's "name" and the algorithm's options (validated from its spec; cfg.finish() rejects
// unknown keys), checks that the options can run on env.comm.size() ranks, and constructs it.
std::unique_ptr<Algorithm> make_algorithm(JsonReader& cfg, AlgorithmEnv env);

}  // namespace gg
