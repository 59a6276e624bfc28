// SGD update rules and learning-rate schedules against hand-computed values.
#include <gtest/gtest.h>

#include "core/config/json_reader.hpp"
#include "core/optim/optimizer_config.hpp"
#include "core/util/error.hpp"

namespace gg {
namespace {

TEST(Optim, MomentumAndWeightDecayFollowTheFormula) {
  std::vector<ParamRange> ranges{{0, 1, true, "w"}, {1, 1, false, "b"}};
  Sgd sgd({0.9, 0.1, false}, ranges, 2);
  std::vector<float> w{1.0f, 1.0f}, g{0.5f, 0.5f};
  sgd.step(w, g, 0.1);  // v = g + wd*w = 0.6 (w), 0.5 (b)
  EXPECT_FLOAT_EQ(w[0], 1.0f - 0.1f * 0.6f);
  EXPECT_FLOAT_EQ(w[1], 1.0f - 0.1f * 0.5f);
  sgd.step(w, g, 0.1);  // v = 0.9*0.6 + 0.5 + 0.1*0.94
  EXPECT_NEAR(w[0], 0.94f - 0.1f * (0.54f + 0.5f + 0.094f), 1e-6);
}

TEST(Optim, NesterovLooksAhead) {
  std::vector<ParamRange> ranges{{0, 1, false, "w"}};
  Sgd sgd({0.9, 0.0, true}, ranges, 1);
  std::vector<float> w{0.0f}, g{1.0f};
  sgd.step(w, g, 1.0);  // v = 1; w -= (g + 0.9 v) = 1.9
  EXPECT_FLOAT_EQ(w[0], -1.9f);
}

LrSchedule schedule(const char* text, double epochs = 10) {
  const auto j = nlohmann::json::parse(text);
  JsonReader r(j, "optimizer");
  return read_optimizer_config(r, epochs).lr;
}

TEST(Optim, Schedules) {
  auto step = schedule(R"({"lr": 0.1, "schedule": {"kind": "step", "step_epochs": 2, "gamma": 0.5}})");
  EXPECT_DOUBLE_EQ(step.at(1.9), 0.1);
  EXPECT_DOUBLE_EQ(step.at(2.0), 0.05);
  auto multi = schedule(R"({"lr": 1, "schedule": {"kind": "multistep", "milestones": [3, 6], "gamma": 0.1}})");
  EXPECT_DOUBLE_EQ(multi.at(2), 1.0);
  EXPECT_NEAR(multi.at(6.5), 0.01, 1e-12);
  auto cosine = schedule(R"({"lr": 1, "schedule": {"kind": "cosine"}})", 10);
  EXPECT_NEAR(cosine.at(5), 0.5, 1e-9);
  EXPECT_NEAR(cosine.at(10), 0.0, 1e-9);
  auto warm = schedule(R"({"lr": 1, "warmup_epochs": 2})");
  EXPECT_NEAR(warm.at(1), 0.5, 1e-3);
  EXPECT_DOUBLE_EQ(warm.at(3), 1.0);
  auto scaled = schedule(R"({"lr": 0.1, "scale_lr_reference_batch": 64})");
  scaled.apply_linear_scaling(512);
  EXPECT_NEAR(scaled.at(0), 0.8, 1e-12);
}

TEST(Optim, BadOptimizerConfig) {
  EXPECT_THROW(schedule(R"({"lr": -1})"), InputError);
  EXPECT_THROW(schedule(R"({"lr": 0.1, "schedule": {"kind": "exp"}})"), InputError);
  EXPECT_THROW(schedule(R"({"lr": 0.1, "schedule": {"kind": "multistep"}})"), InputError);
  EXPECT_THROW(schedule(R"({"lr": 0.1, "momentun": 0.9})"), InputError);
}

}  // namespace
}  // namespace gg
