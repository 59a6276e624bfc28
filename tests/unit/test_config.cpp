// Run configuration: parsing errors name line/column or the JSON path; --set overrides; a recording
// JsonReader writes the effective configuration (every value read, defaults included).
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <unistd.h>

#include "core/config/json_reader.hpp"
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

TEST(JsonReaderRecord, RecordsEveryValueReadDefaultsIncluded) {
  using nlohmann::json;
  const json doc = json::parse(R"({
    "n": 3, "whole": 4.0, "x": 2, "flag": false, "s": "given", "ints": [1, 2], "names": ["a"],
    "sub": {"k": "v", "deeper": {"z": 9}, "unread": 1},
    "layers": [{"kind": "dense", "out": 4}],
    "model": {"anything": [1, {"b": 2}]},
    "unread": "never asked for"
  })");
  auto record = std::make_shared<json>(json::object());
  JsonReader r(doc, "", record);
  EXPECT_EQ(r.get_int("n"), 3);
  EXPECT_EQ(r.get_int("whole"), 4);
  EXPECT_EQ(r.get_int("absent_int", 7), 7);
  EXPECT_EQ(r.get_double("x"), 2.0);
  EXPECT_EQ(r.get_double("absent_double", 0.25), 0.25);
  EXPECT_FALSE(r.get_bool("flag"));
  EXPECT_TRUE(r.get_bool("absent_bool", true));
  EXPECT_EQ(r.get_string("s"), "given");
  EXPECT_EQ(r.get_string("absent_string", "dflt", {"dflt", "other"}), "dflt");
  EXPECT_EQ(r.get_int_list("ints", {}), (std::vector<std::int64_t>{1, 2}));
  EXPECT_EQ(r.get_int_list("absent_ints", {5}), (std::vector<std::int64_t>{5}));
  EXPECT_EQ(r.get_string_list("names", {}), (std::vector<std::string>{"a"}));
  EXPECT_EQ(r.get_string_list("absent_names", {"b", "c"}), (std::vector<std::string>{"b", "c"}));
  JsonReader sub = r.object("sub");
  EXPECT_EQ(sub.get_string("k"), "v");
  EXPECT_EQ(sub.get_int("absent", 2), 2);
  EXPECT_EQ(sub.object("deeper").get_int("z"), 9);
  EXPECT_FALSE(r.object("absent_block").get_bool("on", false));  // an absent optional block: its defaults
  EXPECT_EQ(r.objects("layers").size(), 1u);
  EXPECT_EQ(r.raw("model"), doc["model"]);

  const json expect = json::parse(R"({
    "n": 3, "whole": 4, "absent_int": 7, "x": 2.0, "absent_double": 0.25, "flag": false, "absent_bool": true,
    "s": "given", "absent_string": "dflt", "ints": [1, 2], "absent_ints": [5], "names": ["a"],
    "absent_names": ["b", "c"],
    "sub": {"k": "v", "absent": 2, "deeper": {"z": 9}},
    "absent_block": {"on": false},
    "layers": [{"kind": "dense", "out": 4}],
    "model": {"anything": [1, {"b": 2}]}
  })");
  EXPECT_EQ(*record, expect) << record->dump(2);
  // Values are recorded as the type they were read as: an integral 4.0 read as an int is an integer.
  EXPECT_TRUE((*record)["whole"].is_number_integer());
  EXPECT_TRUE((*record)["x"].is_number_float());
  // Re-reading the record gives the same values, so a run can be repeated from it.
  JsonReader again(*record, "");
  EXPECT_EQ(again.get_int("absent_int"), 7);
  EXPECT_EQ(again.object("sub").get_int("absent"), 2);
}

TEST(JsonReaderRecord, ReadersWithoutARecordAndFailedReadsRecordNothing) {
  using nlohmann::json;
  const json doc = json::parse(R"({"a": 1, "b": "text", "sub": {"c": 2}})");
  auto record = std::make_shared<json>(json::object());
  JsonReader r(doc, "", record);
  EXPECT_THROW(r.get_int("b"), InputError);        // wrong type
  EXPECT_THROW(r.get_int("a", {}, 5, 9), InputError);  // out of range
  EXPECT_THROW(r.get_int("required"), InputError);  // absent, no default
  EXPECT_EQ(*record, json::object()) << record->dump();
  JsonReader plain(doc, "");  // not recording: reading works as before
  EXPECT_EQ(plain.object("sub").get_int("c"), 2);
  EXPECT_EQ(*record, json::object());
}

// json_reader.hpp: a reader made with a record "records every value read into *record, at `path`'s
// position in it". The 3-argument constructor records at the root whatever its path (record_at_ is never
// set from `path`; only child readers get a position), so this fails today. Disabled until
// core/config/json_reader.cpp is fixed (reported); the trainer only ever uses path "" (RunConfig::reader).
TEST(JsonReaderRecord, RecordsAtTheReadersPath) {
  using nlohmann::json;
  const json block = json::parse(R"({"name": "gossipgrad", "sub": {"k": 1}})");
  auto record = std::make_shared<json>(json::parse(R"({"train": {"epochs": 2}})"));
  JsonReader r(block, "algorithm", record);
  EXPECT_EQ(r.get_string("name"), "gossipgrad");
  EXPECT_EQ(r.object("sub").get_int("k"), 1);
  EXPECT_EQ(*record, json::parse(R"({"train": {"epochs": 2}, "algorithm": {"name": "gossipgrad", "sub": {"k": 1}}})"))
      << record->dump(2);
}

TEST(JsonReaderRecord, RunConfigRecordsTheEffectiveConfig) {
  const RunConfig rc = parse_run_config(load_config_json("", {"train.epochs=3"}));
  const nlohmann::json& eff = *rc.effective;
  EXPECT_EQ(eff["train"]["epochs"], 3);
  EXPECT_EQ(eff["train"]["batch"], rc.train.batch);  // a default, recorded
  EXPECT_EQ(eff["train"]["seed"], rc.train.seed);
  // A block read later through reader() lands in the same record.
  JsonReader root = rc.reader();
  auto opt = root.object("optimizer");
  opt.get_double("lr", 0.5);
  EXPECT_TRUE(eff.contains("optimizer")) << eff.dump(2);
}

}  // namespace
}  // namespace gg
