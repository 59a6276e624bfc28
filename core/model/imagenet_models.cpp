#include "core/model/imagenet_models.hpp"

#include <string>

namespace gg {

namespace {
using json = nlohmann::json;

json conv(const std::string& name, const std::string& in, int out, int k, int stride, int pad, bool bias) {
  return {{"type", "conv2d"}, {"name", name}, {"inputs", {in}}, {"out", out}, {"kernel", k},
          {"stride", stride}, {"pad", pad}, {"bias", bias}};
}
json relu(const std::string& name, const std::string& in) {
  return {{"type", "relu"}, {"name", name}, {"inputs", {in}}};
}
json max_pool(const std::string& name, const std::string& in, int k, int stride, int pad) {
  return {{"type", "max_pool"}, {"name", name}, {"inputs", {in}}, {"kernel", k}, {"stride", stride}, {"pad", pad}};
}
}  // namespace

json resnet50(int classes) {
  json layers = json::array();
  // conv -> BN [-> ReLU]; returns the name of the last layer.
  auto conv_bn = [&](const std::string& name, const std::string& in, int out, int k, int stride, bool act) {
    layers.push_back(conv(name, in, out, k, stride, k / 2, false));
    layers.push_back({{"type", "batch_norm"}, {"name", name + "_bn"}, {"inputs", {name}}});
    if (!act) return name + "_bn";
    layers.push_back(relu(name + "_relu", name + "_bn"));
    return name + "_relu";
  };
  std::string x = conv_bn("conv1", "input", 64, 7, 2, true);
  layers.push_back(max_pool("pool1", x, 3, 2, 1));
  x = "pool1";
  const int blocks[4] = {3, 4, 6, 3};
  for (int stage = 0; stage < 4; ++stage) {
    const int width = 64 << stage, out = 4 * width;
    for (int b = 0; b < blocks[stage]; ++b) {
      const std::string n = "res" + std::to_string(stage + 2) + char('a' + b);
      const int stride = (b == 0 && stage > 0) ? 2 : 1;
      std::string y = conv_bn(n + "_a", x, width, 1, 1, true);
      y = conv_bn(n + "_b", y, width, 3, stride, true);
      y = conv_bn(n + "_c", y, out, 1, 1, false);
      const std::string shortcut = b == 0 ? conv_bn(n + "_proj", x, out, 1, stride, false) : x;
      layers.push_back({{"type", "add"}, {"name", n + "_add"}, {"inputs", {y, shortcut}}});
      layers.push_back(relu(n + "_relu", n + "_add"));
      x = n + "_relu";
    }
  }
  layers.push_back({{"type", "avg_pool"}, {"name", "pool5"}, {"inputs", {x}}, {"global", true}});
  layers.push_back({{"type", "dense"}, {"name", "fc1000"}, {"out", classes}});
  return {{"layers", layers}};
}

json googlenet(int classes) {
  json layers = json::array();
  auto conv_relu = [&](const std::string& name, const std::string& in, int out, int k, int stride) {
    layers.push_back(conv(name, in, out, k, stride, k / 2, true));
    layers.push_back(relu(name + "_relu", name));
    return name + "_relu";
  };
  auto lrn = [&](const std::string& name, const std::string& in) {
    layers.push_back({{"type", "lrn"}, {"name", name}, {"inputs", {in}}, {"size", 5}, {"alpha", 1e-4}, {"beta", 0.75}});
    return name;
  };
  // An inception module: 1x1 | 1x1 -> 3x3 | 1x1 -> 5x5 | 3x3 max pool -> 1x1, concatenated.
  auto inception = [&](const std::string& n, const std::string& in, int c1, int r3, int c3, int r5, int c5, int pp) {
    const std::string a = conv_relu(n + "_1x1", in, c1, 1, 1);
    const std::string b = conv_relu(n + "_3x3", conv_relu(n + "_3x3_reduce", in, r3, 1, 1), c3, 3, 1);
    const std::string c = conv_relu(n + "_5x5", conv_relu(n + "_5x5_reduce", in, r5, 1, 1), c5, 5, 1);
    layers.push_back(max_pool(n + "_pool", in, 3, 1, 1));
    const std::string d = conv_relu(n + "_pool_proj", n + "_pool", pp, 1, 1);
    layers.push_back({{"type", "concat"}, {"name", n + "_output"}, {"inputs", {a, b, c, d}}});
    return n + "_output";
  };
  std::string x = conv_relu("conv1_7x7_s2", "input", 64, 7, 2);
  layers.push_back(max_pool("pool1_3x3_s2", x, 3, 2, 1));
  x = lrn("pool1_norm1", "pool1_3x3_s2");
  x = conv_relu("conv2_3x3_reduce", x, 64, 1, 1);
  x = conv_relu("conv2_3x3", x, 192, 3, 1);
  x = lrn("conv2_norm2", x);
  layers.push_back(max_pool("pool2_3x3_s2", x, 3, 2, 1));
  x = inception("inception_3a", "pool2_3x3_s2", 64, 96, 128, 16, 32, 32);
  x = inception("inception_3b", x, 128, 128, 192, 32, 96, 64);
  layers.push_back(max_pool("pool3_3x3_s2", x, 3, 2, 1));
  x = inception("inception_4a", "pool3_3x3_s2", 192, 96, 208, 16, 48, 64);
  x = inception("inception_4b", x, 160, 112, 224, 24, 64, 64);
  x = inception("inception_4c", x, 128, 128, 256, 24, 64, 64);
  x = inception("inception_4d", x, 112, 144, 288, 32, 64, 64);
  x = inception("inception_4e", x, 256, 160, 320, 32, 128, 128);
  layers.push_back(max_pool("pool4_3x3_s2", x, 3, 2, 1));
  x = inception("inception_5a", "pool4_3x3_s2", 256, 160, 320, 32, 128, 128);
  x = inception("inception_5b", x, 384, 192, 384, 48, 128, 128);
  layers.push_back({{"type", "avg_pool"}, {"name", "pool5_7x7_s1"}, {"inputs", {x}}, {"global", true}});
  layers.push_back({{"type", "dropout"}, {"name", "pool5_drop"}, {"rate", 0.4}});
  layers.push_back({{"type", "dense"}, {"name", "loss3_classifier"}, {"init", "xavier"}, {"out", classes}});
  return {{"layers", layers}};
}

}  // namespace gg
