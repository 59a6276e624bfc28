#pragma once
// Algorithms by name. Adding an algorithm = its file + one line in registry.cpp's table.
//
// Config block (JSON "algorithm"), one of:
//   {"name": "allreduce"}
//   {"name": "gossip", "exchange": "gradients"|"parameters", "timing": "sync"|"async"}
//       hypercube, rotation none: gossip without rotation
//   {"name": "gossipgrad", "topology": "hypercube"|"dissemination", "rotation": "none"|"shift"|"permutation",
//    "exchange": "gradients"|"parameters", "timing": "sync"|"async", "shuffle": true|false}
//   {"name": "ps", "servers": 1, "mode": "sync"|"async", "staleness": 0}      (0 = unbounded)
// Defaults: gossip: parameters, async. gossipgrad: hypercube, shift, parameters, async, shuffle true.
// ps: 1 server, sync, staleness 0.
// Construction does not communicate, so a bad input throws InputError on every rank alike.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "algorithms/algorithm.hpp"
#include "core/config/json_reader.hpp"

namespace gg {

struct AlgorithmEnv {
  Communicator& comm;  // all ranks (parameter servers included)
  Model& model;        // finalized; params initialised identically on every rank
  Sgd& optimizer;      // over model's layout; parameter servers use its options for their shards
  std::uint64_t seed;  // shared by all ranks (permutation rotation)
};

// Reads cfg's "name" and the algorithm's own keys; cfg.finish() rejects unknown keys. Throws
// InputError naming the path for an unknown name (listing the known ones) or a bad option.
std::unique_ptr<Algorithm> make_algorithm(JsonReader& cfg, AlgorithmEnv env);
std::vector<std::string> algorithm_names();

// Factories, one per algorithm file (each reads its own options and calls cfg.finish()).
std::unique_ptr<Algorithm> make_allreduce(JsonReader& cfg, const AlgorithmEnv& env);
std::unique_ptr<Algorithm> make_gossip(JsonReader& cfg, const AlgorithmEnv& env);
std::unique_ptr<Algorithm> make_gossipgrad(JsonReader& cfg, const AlgorithmEnv& env);
std::unique_ptr<Algorithm> make_ps(JsonReader& cfg, const AlgorithmEnv& env);

}  // namespace gg
