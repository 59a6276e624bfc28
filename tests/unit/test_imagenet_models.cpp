// ResNet-50 and GoogLeNet (core/model/imagenet_models.hpp): the published parameter counts at 1000
// classes, the grids their pools produce at 224x224, and one CPU training step at a tiny input.
#include <gtest/gtest.h>

#include <cmath>

#include "core/layers/softmax_xent.hpp"
#include "core/model/model_builder.hpp"
#include "core/optim/sgd.hpp"

namespace gg {
namespace {

std::unique_ptr<Model> imagenet(const char* name, int side, int classes, int batch) {
  return build_model(nlohmann::json(name), "model", Shape{1, side, side, 3}, classes, batch);
}

const LayerInfo& layer_named(const std::vector<LayerInfo>& layers, const std::string& name) {
  for (const auto& l : layers)
    if (l.name == name) return l;
  throw std::runtime_error("no layer " + name);
}

TEST(ImagenetModels, Resnet50HasTorchvisionsParameterCount) {
  auto m = imagenet("resnet50", 224, 1000, 1);
  EXPECT_EQ(m->num_params(), 25557032u);
  const auto layers = m->layers();
  EXPECT_EQ(layer_named(layers, "pool1").out, (Shape{1, 56, 56, 64}));
  EXPECT_EQ(layer_named(layers, "res3a_relu").out, (Shape{1, 28, 28, 512}));
  EXPECT_EQ(layer_named(layers, "res5c_relu").out, (Shape{1, 7, 7, 2048}));
  // 4.1 GMAC per image, as the literature counts multiply-adds (conv and fc).
  EXPECT_NEAR(m->forward_flops_per_sample() / 2e9, 4.1, 0.1);
}

TEST(ImagenetModels, GooglenetHasCaffesGrids) {
  auto m = imagenet("googlenet", 224, 1000, 1);
  const auto layers = m->layers();
  EXPECT_EQ(layer_named(layers, "pool1_3x3_s2").out, (Shape{1, 56, 56, 64}));
  EXPECT_EQ(layer_named(layers, "inception_3b_output").out, (Shape{1, 28, 28, 480}));
  EXPECT_EQ(layer_named(layers, "inception_4e_output").out, (Shape{1, 14, 14, 832}));
  EXPECT_EQ(layer_named(layers, "inception_5b_output").out, (Shape{1, 7, 7, 1024}));
  // bvlc_googlenet without its two auxiliary classifiers.
  EXPECT_EQ(m->num_params(), 6998552u);
}

// One SGD step at 32x32 with momentum on: finite loss, nonzero gradients in the first and last layer.
void one_step(const char* name) {
  const int batch = 2, classes = 10;
  auto m = imagenet(name, 32, classes, batch);
  m->init(3);
  Tensor x({batch, 32, 32, 3});
  for (std::size_t i = 0; i < x.size(); ++i) x.data()[i] = float(std::sin(0.37 * double(i)));
  const std::vector<std::int32_t> y{1, 7};
  Sgd sgd({0.9, 5e-4, false}, m->ranges(), m->num_params());
  Tensor d;
  const float loss = softmax_xent(m->forward(x, {Phase::Train, 0}), y, &d);
  EXPECT_TRUE(std::isfinite(loss)) << name;
  m->backward(d, {Phase::Train, 0});
  const auto& first = m->ranges().front();
  const auto& last = m->ranges().back();
  double g_first = 0, g_last = 0;
  for (std::size_t i = 0; i < first.count; ++i) g_first += std::abs(m->grads()[first.offset + i]);
  for (std::size_t i = 0; i < last.count; ++i) g_last += std::abs(m->grads()[last.offset + i]);
  EXPECT_GT(g_first, 0.0) << name << " " << first.name;
  EXPECT_GT(g_last, 0.0) << name << " " << last.name;
  sgd.step(m->params(), m->grads(), 0.01);
  const float after = softmax_xent(m->forward(x, {Phase::Train, 1}), y, nullptr);
  EXPECT_TRUE(std::isfinite(after)) << name;
}

TEST(ImagenetModels, Resnet50TrainsOneStepOnCpu) { one_step("resnet50"); }
TEST(ImagenetModels, GooglenetTrainsOneStepOnCpu) { one_step("googlenet"); }

}  // namespace
}  // namespace gg
