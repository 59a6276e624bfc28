// Run configuration: parsing errors name line/column or the JSON path; --set overrides.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <unistd.h>

#include "core/config/run_config.hpp"
#include "core/util/error.hpp"

namespace gg {
namespace {

std::string write_temp(const std::string& text) {
  char name[] = "/tmp/gg_cfg_XXXXXX";
  const int fd = mkstemp(name);
  close(fd);
  std::ofstream(name) << text;
  return name;
}

std::string error_of(const std::string& text, std::vector<std::string> sets = {}) {
  const std::string path = write_temp(text);
  try {
    parse_run_config(load_config_json(path, sets));
  } catch (const InputError& e) {
    std::remove(path.c_str());
    return e.what();
  }
  std::remove(path.c_str());
  return "";
}

TEST(Config, DefaultsAreValid) {
  const RunConfig rc = parse_run_config(load_config_json("", {}));
  EXPECT_EQ(rc.train.batch, 64);
  EXPECT_EQ(rc.resolved["model"], "lenet");
}

TEST(Config, MalformedJsonNamesLineAndColumn) {
  const std::string e = error_of("{\n  \"name\": \"x\",\n  \"train\": {\"epochs\": 2,,}\n}");
  EXPECT_NE(e.find("malformed JSON at line 3"), std::string::npos) << e;
}

TEST(Config, UnknownKeysAndTypesNameThePath) {
  EXPECT_NE(error_of(R"({"train": {"epochz": 2}})").find("unknown key 'train.epochz'"), std::string::npos);
  EXPECT_NE(error_of(R"({"train": {"epochs": "two"}})").find("'train.epochs' must be an integer"), std::string::npos);
  EXPECT_NE(error_of(R"({"train": {"batch": 0}})").find("'train.batch' must be in [1,"), std::string::npos);
  EXPECT_NE(error_of(R"({"train": {"batch": -5}})").find("train.batch"), std::string::npos);
  EXPECT_NE(error_of(R"({"colour": 1})").find("unknown key 'colour'"), std::string::npos);
  EXPECT_NE(error_of("[1, 2]").find("must be a JSON object"), std::string::npos);
}

TEST(Config, SetOverridesAnyKey) {
  nlohmann::json doc = load_config_json("", {"train.epochs=3", "algorithm.name=gossipgrad",
                                             "algorithm.rotation=none", "model={\"layers\": []}"});
  EXPECT_EQ(doc["train"]["epochs"], 3);
  EXPECT_EQ(doc["algorithm"]["name"], "gossipgrad");
  EXPECT_EQ(doc["algorithm"]["rotation"], "none");
  EXPECT_TRUE(doc["model"].is_object());
  EXPECT_THROW(load_config_json("", {"noequals"}), InputError);
  EXPECT_THROW(load_config_json("/nonexistent/cfg.json", {}), InputError);
}

TEST(Config, CommIallreduceChoosesTheSchedule) {
  EXPECT_FALSE(parse_run_config(load_config_json("", {})).ring_iallreduce);
  EXPECT_TRUE(parse_run_config(load_config_json("", {"comm.iallreduce=ring"})).ring_iallreduce);
  EXPECT_FALSE(parse_run_config(load_config_json("", {"comm.iallreduce=mpi"})).ring_iallreduce);
  const std::string e = error_of(R"({"comm": {"iallreduce": "tree"}})");
  EXPECT_NE(e.find("comm.iallreduce"), std::string::npos) << e;
  EXPECT_NE(error_of(R"({"comm": {"iallreduse": "ring"}})").find("unknown key 'comm.iallreduse'"), std::string::npos);
}

}  // namespace
}  // namespace gg
