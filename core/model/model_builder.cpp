#include "core/model/model_builder.hpp"

#include <map>

#include "core/config/json_reader.hpp"
#include "core/layers/registry.hpp"
#include "core/model/imagenet_models.hpp"
#include "core/util/error.hpp"

namespace gg {
namespace {

using json = nlohmann::json;

// Caffe's MNIST LeNet (examples/mnist/lenet_train_test.prototxt), with its xavier weight filler.
json lenet(int classes) {
  return {{"layers",
           {{{"type", "conv2d"}, {"init", "xavier"}, {"name", "conv1"}, {"out", 20}, {"kernel", 5}},
            {{"type", "max_pool"}, {"name", "pool1"}, {"kernel", 2}, {"stride", 2}},
            {{"type", "conv2d"}, {"init", "xavier"}, {"name", "conv2"}, {"out", 50}, {"kernel", 5}},
            {{"type", "max_pool"}, {"name", "pool2"}, {"kernel", 2}, {"stride", 2}},
            {{"type", "dense"}, {"init", "xavier"}, {"name", "ip1"}, {"out", 500}},
            {{"type", "relu"}, {"name", "relu1"}},
            {{"type", "dense"}, {"init", "xavier"}, {"name", "ip2"}, {"out", classes}}}}};
}

// Caffe's CIFAR-10 "quick" net (examples/cifar10/cifar10_quick_train_test.prototxt). Caffe rounds
// pooled sizes up; a pad of 1 with floor rounding gives the same 16/8/4 sizes.
json cifarnet(int classes) {
  return {{"layers",
           {{{"type", "conv2d"}, {"init", "xavier"}, {"name", "conv1"}, {"out", 32}, {"kernel", 5}, {"pad", 2}},
            {{"type", "max_pool"}, {"name", "pool1"}, {"kernel", 3}, {"stride", 2}, {"pad", 1}},
            {{"type", "relu"}, {"name", "relu1"}},
            {{"type", "conv2d"}, {"init", "xavier"}, {"name", "conv2"}, {"out", 32}, {"kernel", 5}, {"pad", 2}},
            {{"type", "relu"}, {"name", "relu2"}},
            {{"type", "avg_pool"}, {"name", "pool2"}, {"kernel", 3}, {"stride", 2}, {"pad", 1}},
            {{"type", "conv2d"}, {"init", "xavier"}, {"name", "conv3"}, {"out", 64}, {"kernel", 5}, {"pad", 2}},
            {{"type", "relu"}, {"name", "relu3"}},
            {{"type", "avg_pool"}, {"name", "pool3"}, {"kernel", 3}, {"stride", 2}, {"pad", 1}},
            {{"type", "dense"}, {"init", "xavier"}, {"name", "ip1"}, {"out", 64}},
            {{"type", "dense"}, {"init", "xavier"}, {"name", "ip2"}, {"out", classes}}}}};
}

// He et al.'s CIFAR ResNet-20: 3 stages of 3 basic blocks (16, 32, 64 channels); projection
// shortcuts (1x1 conv + BN) where the shape changes.
json resnet20(int classes) {
  json layers = json::array();
  auto conv_bn = [&](const std::string& name, const std::string& in, int out, int k, int stride, bool relu) {
    layers.push_back({{"type", "conv2d"}, {"name", name}, {"inputs", {in}}, {"out", out}, {"kernel", k},
                      {"stride", stride}, {"pad", k / 2}, {"bias", false}});
    layers.push_back({{"type", "batch_norm"}, {"name", name + "_bn"}});
    if (relu) layers.push_back({{"type", "relu"}, {"name", name + "_relu"}});
    return relu ? name + "_relu" : name + "_bn";
  };
  std::string x = conv_bn("conv1", "input", 16, 3, 1, true);
  int channels = 16;
  for (int stage = 0; stage < 3; ++stage) {
    const int out = 16 << stage;
    for (int block = 0; block < 3; ++block) {
      const std::string b = "s" + std::to_string(stage + 1) + "b" + std::to_string(block + 1);
      const int stride = (block == 0 && stage > 0) ? 2 : 1;
      std::string y = conv_bn(b + "_conv1", x, out, 3, stride, true);
      y = conv_bn(b + "_conv2", y, out, 3, 1, false);
      std::string shortcut = x;
      if (stride != 1 || channels != out) shortcut = conv_bn(b + "_proj", x, out, 1, stride, false);
      layers.push_back({{"type", "add"}, {"name", b + "_add"}, {"inputs", {y, shortcut}}});
      layers.push_back({{"type", "relu"}, {"name", b + "_relu"}});
      x = b + "_relu";
      channels = out;
    }
  }
  layers.push_back({{"type", "avg_pool"}, {"name", "gap"}, {"global", true}});
  layers.push_back({{"type", "dense"}, {"name", "fc"}, {"out", classes}});
  return {{"layers", layers}};
}

using Maker = json (*)(int);
const std::map<std::string, Maker>& makers() {
  static const std::map<std::string, Maker> table{
      {"lenet", lenet},
      {"cifarnet", cifarnet},
      {"resnet20", resnet20},
      {"resnet50", resnet50},
      {"googlenet", googlenet},
  };
  return table;
}

}  // namespace

std::vector<std::string> model_names() {
  std::vector<std::string> out;
  for (const auto& [name, _] : makers()) out.push_back(name);
  return out;
}

json named_model(const std::string& name, int num_classes) {
  auto it = makers().find(name);
  if (it == makers().end()) {
    std::string known;
    for (const auto& n : model_names()) known += (known.empty() ? "" : ", ") + n;
    throw InputError("config: 'model': unknown model '" + name + "' (known: " + known + ")");
  }
  return it->second(num_classes);
}

std::unique_ptr<Model> build_model(const json& spec, const std::string& path, Shape input_sample,
                                   int num_classes, int max_batch, std::size_t bucket_bytes,
                                   const Placement& placement) {
  const json desc = spec.is_string() ? named_model(spec.get<std::string>(), num_classes) : spec;
  const std::string where = spec.is_string() ? path + "(" + spec.get<std::string>() + ")" : path;
  JsonReader root(desc, where);
  auto model = std::make_unique<Model>(input_sample, num_classes);
  std::map<std::string, int> ids{{"input", 0}};
  for (auto& layer_cfg : root.objects("layers")) {
    const std::string type = layer_cfg.get_string("type");
    const std::string name = layer_cfg.get_string("name", type + std::to_string(model->last_node() + 1));
    if (ids.count(name)) throw InputError("config: '" + layer_cfg.path_of("name") + "': duplicate layer name '" + name + "'");
    std::vector<int> inputs;
    for (const auto& in : layer_cfg.get_string_list("inputs", {})) {
      auto it = ids.find(in);
      if (it == ids.end())
        throw InputError("config: '" + layer_cfg.path_of("inputs") + "': layer '" + name +
                         "' reads unknown or later layer '" + in + "'");
      inputs.push_back(it->second);
    }
    if (inputs.empty()) inputs.push_back(model->last_node());
    auto layer = make_layer(type, layer_cfg);
    layer->set_name(name);
    ids[name] = model->add(std::move(layer), inputs);
  }
  root.finish();
  if (placement.gpu) model->place_on(placement);
  model->finalize(max_batch, bucket_bytes);
  return model;
}

}  // namespace gg
