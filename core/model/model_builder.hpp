#pragma once
// Models from JSON, and the named models (lenet, cifarnet, resnet20; resnet50 and googlenet from
// core/model/imagenet_models.hpp), which are themselves JSON
// descriptions, so both paths share one builder.
//
// JSON model: {"layers": [{"type": "conv2d", "name": "conv1", "out": 20, "kernel": 5}, ...]}
// Each layer reads the previous one unless it lists "inputs": ["name", ...] ("input" = the data).
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/model/model.hpp"

namespace gg {

// spec: a model name ("lenet") or a JSON object as above. path names it in errors ("model"). With a
// GPU in `placement` the model is placed there (Model::place_on) before it is finalized.
std::unique_ptr<Model> build_model(const nlohmann::json& spec, const std::string& path, Shape input_sample,
                                   int num_classes, int max_batch, std::size_t bucket_bytes = 1 << 20,
                                   const Placement& placement = {});
// The JSON description of a named model; throws InputError for an unknown name.
nlohmann::json named_model(const std::string& name, int num_classes);
std::vector<std::string> model_names();

}  // namespace gg
