// Building layers by name from JSON options.
#include <gtest/gtest.h>

#include "core/layers/avg_pool.hpp"
#include "core/layers/conv2d.hpp"
#include "core/layers/registry.hpp"
#include "core/util/error.hpp"

namespace gg {
namespace {

std::unique_ptr<Layer> build(const std::string& type, const char* json) {
  const nlohmann::json j = nlohmann::json::parse(json);
  JsonReader r(j, "model.layers[2]");
  return make_layer(type, r);
}

std::string error_of(const std::string& type, const char* json) {
  try {
    build(type, json);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(LayerRegistry, BuildsEveryType) {
  struct Case { const char* type; const char* json; Shape in; Shape out; };
  const Case cases[] = {
      {"conv2d", R"({"out": 8, "kernel": 3, "stride": 2, "pad": 1})", {2, 9, 9, 3}, {2, 5, 5, 8}},
      {"dense", R"({"out": 10, "bias": false})", {2, 3, 3, 2}, {2, 1, 1, 10}},
      {"relu", "{}", {2, 3, 3, 2}, {2, 3, 3, 2}},
      {"max_pool", R"({"kernel": 3, "stride": 2})", {2, 9, 9, 2}, {2, 4, 4, 2}},
      {"max_pool", R"({"kernel": 2})", {2, 8, 8, 2}, {2, 4, 4, 2}},
      {"avg_pool", R"({"kernel": 3, "stride": 2, "pad": 1})", {2, 8, 8, 2}, {2, 4, 4, 2}},
      {"avg_pool", R"({"global": true})", {2, 8, 6, 2}, {2, 1, 1, 2}},
      {"lrn", R"({"size": 3, "alpha": 5e-5, "beta": 0.75, "k": 2})", {2, 3, 3, 6}, {2, 3, 3, 6}},
      {"dropout", R"({"rate": 0.5})", {2, 1, 1, 6}, {2, 1, 1, 6}},
      {"batch_norm", R"({"momentum": 0.99, "eps": 1e-3})", {2, 3, 3, 6}, {2, 3, 3, 6}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.type) + " " + c.json);
    auto layer = build(c.type, c.json);
    ASSERT_TRUE(layer);
    EXPECT_EQ(layer->kind(), c.type);
    EXPECT_EQ(layer->setup(std::vector<Shape>{c.in}), c.out);
  }
  auto add = build("add", "{}");
  EXPECT_EQ(add->setup(std::vector<Shape>{{2, 3, 3, 4}, {2, 3, 3, 4}}), (Shape{2, 3, 3, 4}));
  auto concat = build("concat", "{}");
  EXPECT_EQ(concat->setup(std::vector<Shape>{{2, 3, 3, 4}, {2, 3, 3, 1}}), (Shape{2, 3, 3, 5}));

  auto conv = build("conv2d", R"({"out": 8, "kernel": 5})");
  const auto& o = dynamic_cast<Conv2D&>(*conv).options();
  EXPECT_EQ(o.stride, 1);
  EXPECT_EQ(o.pad, 0);
  EXPECT_TRUE(o.bias);
}

TEST(LayerRegistry, ListsTypes) {
  const auto types = layer_types();
  for (const char* t : {"conv2d", "dense", "relu", "max_pool", "avg_pool", "lrn", "dropout",
                        "batch_norm", "add", "concat"})
    EXPECT_NE(std::find(types.begin(), types.end(), t), types.end()) << t;
}

TEST(LayerRegistry, RejectsUnknownType) {
  const std::string e = error_of("conv3d", "{}");
  EXPECT_NE(e.find("unknown layer type 'conv3d' at model.layers[2]"), std::string::npos) << e;
  EXPECT_NE(e.find("known: conv2d, dense"), std::string::npos) << e;
}

TEST(LayerRegistry, RejectsUnknownKey) {
  const std::string e = error_of("conv2d", R"({"out": 8, "kernel": 3, "strides": 2})");
  EXPECT_NE(e.find("strides"), std::string::npos) << e;
  EXPECT_NE(error_of("relu", R"({"inplace": true})").find("inplace"), std::string::npos);
}

TEST(LayerRegistry, RejectsBadValues) {
  EXPECT_NE(error_of("conv2d", R"({"kernel": 3})").find("out"), std::string::npos);
  EXPECT_NE(error_of("conv2d", R"({"out": 0, "kernel": 3})").find("out"), std::string::npos);
  EXPECT_NE(error_of("dense", R"({"out": "ten"})").find("out"), std::string::npos);
  EXPECT_NE(error_of("dropout", R"({"rate": 1.0})").find("rate"), std::string::npos);
  EXPECT_NE(error_of("dropout", R"({"rate": -0.1})").find("rate"), std::string::npos);
  EXPECT_NE(error_of("lrn", R"({"size": 4})").find("size"), std::string::npos);
  EXPECT_NE(error_of("avg_pool", R"({"global": true, "kernel": 2})").find("global"), std::string::npos);
  EXPECT_NE(error_of("max_pool", "{}").find("kernel"), std::string::npos);
}

}  // namespace
}  // namespace gg
