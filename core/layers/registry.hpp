#pragma once
// Layers by name, for JSON model descriptions. Adding a layer = its files + one line in registry.cpp.
#include <memory>
#include <string>
#include <vector>

#include "core/config/json_reader.hpp"
#include "core/layers/layer.hpp"

namespace gg {

// opts holds the layer's own keys (its "type", "name" and "inputs" are consumed by the caller).
// Throws InputError naming opts.path() for an unknown type or bad option; calls opts.finish().
std::unique_ptr<Layer> make_layer(const std::string& type, JsonReader& opts);
std::vector<std::string> layer_types();

}  // namespace gg
