#pragma once
// `gg_train --describe`: every registry as one JSON document, the single source the Python tools read
// names, defaults, labels and rank layouts from:
//   {"version": {"git", "build_type", "backends": [...]},
//    "algorithms": [algorithm spec (algorithms/spec.hpp describe()), ...],   registry order
//    "models": [...], "layers": [...], "datasets": [...], "partitions": [...],
//    "platforms": [SMPI platform files under experiments/platforms/, by stem]}
#include <nlohmann/json.hpp>

namespace gg {

nlohmann::json describe_registries();

}  // namespace gg
