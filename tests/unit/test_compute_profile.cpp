// sim.compute_profile: a profile's per-layer times become per-sample charges in the model's layer order,
// and every mismatch between profile and model is an InputError naming the key.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/model/model_builder.hpp"
#include "core/sim/compute_profile.hpp"
#include "core/util/error.hpp"

namespace gg {
namespace {

using json = nlohmann::json;

class ComputeProfileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    model_ = build_model(json("lenet"), "model", Shape{1, 28, 28, 1}, 10, 8);
    path_ = (std::filesystem::temp_directory_path() /
             ("gg_profile_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".json")).string();
  }
  void TearDown() override { std::filesystem::remove(path_); }
  // A profile of the model's layers at `batch`: layer i takes (i+1) ms forward and 2(i+1) ms backward.
  json profile(int batch) const {
    json layers = json::array();
    int i = 0;
    for (const LayerInfo& l : model_->layers()) {
      ++i;
      layers.push_back({{"name", l.name}, {"forward_s", 1e-3 * i}, {"backward_s", 2e-3 * i}});
    }
    return {{"batch", batch}, {"layers", layers}};
  }
  std::vector<ComputeCharge> read(const json& doc) const {
    std::ofstream(path_) << doc.dump();
    return read_compute_profile(path_, model_->layers(), "sim.compute_profile");
  }
  void expect_error(const json& doc, const std::string& needle) const {
    try {
      read(doc);
      FAIL() << "no error for " << doc.dump();
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("sim.compute_profile"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  }
  std::unique_ptr<Model> model_;
  std::string path_;
};

TEST_F(ComputeProfileTest, ChargesPerSampleInModelOrder) {
  json doc = profile(64);
  std::reverse(doc["layers"].begin(), doc["layers"].end());  // order in the file does not matter
  const auto charges = read(doc);
  ASSERT_EQ(charges.size(), model_->layers().size());
  for (std::size_t i = 0; i < charges.size(); ++i) {
    EXPECT_DOUBLE_EQ(charges[i].forward_s, 1e-3 * double(i + 1) / 64);
    EXPECT_DOUBLE_EQ(charges[i].backward_s, 2e-3 * double(i + 1) / 64);
  }
  model_->set_compute_charges(charges);  // the model takes one charge per layer
  EXPECT_THROW(model_->set_compute_charges(std::vector<ComputeCharge>(charges.size() + 1)), std::logic_error);
}

TEST_F(ComputeProfileTest, MismatchesAreErrorsNamingTheKey) {
  json missing = profile(64);
  const std::string dropped = missing["layers"][1]["name"];
  missing["layers"].erase(1);
  expect_error(missing, "no times for the model's layer '" + dropped + "'");

  json extra = profile(64);
  extra["layers"].push_back({{"name", "fc1000"}, {"forward_s", 1.0}, {"backward_s", 1.0}});
  expect_error(extra, "'fc1000' is not in the model");

  json twice = profile(64);
  twice["layers"].push_back(twice["layers"][0]);
  expect_error(twice, "listed twice");

  json negative = profile(64);
  negative["layers"][0]["backward_s"] = -1;
  expect_error(negative, "'backward_s' must be a finite number of seconds >= 0");

  expect_error(profile(0), "'batch' must be a positive integer");
  expect_error(json{{"batch", 8}}, "'layers' must be a list");
  expect_error(json::array(), "");
}

TEST_F(ComputeProfileTest, MissingFileIsAnError) {
  EXPECT_THROW(read_compute_profile(path_ + ".absent", model_->layers(), "sim.compute_profile"), InputError);
}

}  // namespace
}  // namespace gg
