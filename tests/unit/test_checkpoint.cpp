// Checkpoint files (core/train/checkpoint_store.hpp) and resumed run logs (Hdf5RunLog's resuming
// constructor): round trips, what a crash at each point leaves, and the messages for damaged input.
#include <sys/stat.h>

#include <gtest/gtest.h>
#include <hdf5.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <fstream>
#include <string>
#include <vector>

#include "core/log/hdf5_run_log.hpp"
#include "core/train/checkpoint_store.hpp"
#include "core/util/error.hpp"

namespace gg {
namespace {

namespace fs = std::filesystem;

class Checkpoint : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() / ("gg_ckpt_" + std::string(info->name()) + "_" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string file(const std::string& name) const { return (dir_ / name).string(); }
  fs::path dir_;
};

std::vector<std::byte> bytes(const std::string& s) {
  std::vector<std::byte> b(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) b[i] = std::byte(s[i]);
  return b;
}

CheckpointManifest manifest(std::int64_t step, int ranks) {
  CheckpointManifest m;
  m.step = step;
  m.ranks = ranks;
  m.workers = ranks;
  m.algorithm = "allreduce";
  m.config = {{"train", {{"batch", 8}}}};
  return m;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "no error";
}

TEST_F(Checkpoint, FolderSitsNextToTheLog) {
  EXPECT_EQ(CheckpointStore::dir_for("results/x/run.h5"), "results/x/run.h5.ckpt");
  EXPECT_EQ(CheckpointStore::dir_for("run"), "run.ckpt");
  // each log its own folder, whatever its extension
  EXPECT_NE(CheckpointStore::dir_for("results/x/run.h5"), CheckpointStore::dir_for("results/x/run.hdf5"));
}

TEST_F(Checkpoint, WritesCommitsAndReadsBackEveryRank) {
  const std::string dir = file("run.ckpt");
  for (int r = 0; r < 2; ++r) CheckpointStore(dir, r, 2).write(40, {{"role", "worker"}}, bytes("state of rank " + std::to_string(r)));
  CheckpointStore zero(dir, 0, 2), one(dir, 1, 2);
  EXPECT_FALSE(zero.latest()) << "nothing is committed before LATEST is written";
  zero.commit(manifest(40, 2));
  const auto m = one.latest();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->step, 40);
  EXPECT_FALSE(m->final);
  EXPECT_EQ(m->config, manifest(40, 2).config);
  nlohmann::json header;
  EXPECT_EQ(one.read(*m, &header), bytes("state of rank 1"));
  EXPECT_EQ(header.at("role"), "worker");
  EXPECT_EQ(header.at("rank"), 1);
  EXPECT_EQ(header.at("step"), 40);
  for (const auto& e : fs::recursive_directory_iterator(dir))
    EXPECT_EQ(e.path().filename().string().find(".tmp-"), std::string::npos) << "left behind: " << e.path();
}

TEST_F(Checkpoint, ACrashBeforeTheCommitLeavesThePreviousCheckpoint) {
  const std::string dir = file("run.ckpt");
  CheckpointStore zero(dir, 0, 2), one(dir, 1, 2);
  zero.write(8, {}, bytes("old 0"));
  one.write(8, {}, bytes("old 1"));
  zero.commit(manifest(8, 2));
  zero.write(16, {}, bytes("new 0"));  // rank 1 dies before writing step 16: no commit
  EXPECT_EQ(one.latest()->step, 8);
  EXPECT_EQ(one.read(*one.latest()), bytes("old 1"));
  one.write(24, {}, bytes("newer 1"));  // the next commit removes every other step folder
  zero.write(24, {}, bytes("newer 0"));
  zero.commit(manifest(24, 2));
  EXPECT_FALSE(fs::exists(zero.step_dir(8)));
  EXPECT_FALSE(fs::exists(zero.step_dir(16)));
  EXPECT_EQ(one.read(*one.latest()), bytes("newer 1"));
}

TEST_F(Checkpoint, DamagedOrForeignFilesNameTheFile) {
  const std::string dir = file("run.ckpt");
  CheckpointStore zero(dir, 0, 2), one(dir, 1, 2);
  zero.write(8, {}, bytes("0123456789"));
  zero.commit(manifest(8, 2));
  const CheckpointManifest m = *zero.latest();
  EXPECT_NE(error_of([&] { one.read(m); }).find(one.rank_file(8) + ": missing"), std::string::npos);
  {
    std::fstream f(zero.rank_file(8), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(-7, std::ios::end);
    f.put('X');
  }
  EXPECT_EQ(error_of([&] { zero.read(m); }), "checkpoint: " + zero.rank_file(8) + ": checksum mismatch (the file is damaged)");
  zero.write(8, {}, bytes("0123456789"));
  EXPECT_NE(error_of([&] { CheckpointStore(dir, 0, 3).read(manifest(8, 3)); }).find("header 'ranks' is 2, expected 3"),
            std::string::npos);
  std::ofstream(dir + "/LATEST") << "{\"format\": 1, \"step\": ";
  EXPECT_EQ(error_of([&] { zero.latest(); }), "checkpoint: " + dir + "/LATEST: is not valid JSON");
}

TEST_F(Checkpoint, OnlyRegularFilesAreReadAndSizesComeFirst) {
  const std::string dir = file("run.ckpt");
  CheckpointStore zero(dir, 0, 1);
  zero.write(8, {}, bytes("0123456789"));
  zero.commit(manifest(8, 1));
  const CheckpointManifest m = *zero.latest();
  const std::string rank = zero.rank_file(8);
  {  // a truncated file: refused from its size, before its state is read
    const auto size = fs::file_size(rank);
    fs::resize_file(rank, size - 3);
    EXPECT_NE(error_of([&] { zero.read(m); }).find(rank + ": holds " + std::to_string(size - 3) + " bytes, but its header and state lengths say " +
                                                     std::to_string(size)),
              std::string::npos);
  }
  fs::remove(rank);
  ASSERT_EQ(::mkfifo(rank.c_str(), 0600), 0);  // would block open() forever
  EXPECT_EQ(error_of([&] { zero.read(m); }), "checkpoint: " + rank + ": is a FIFO (named pipe), not a regular file");
  fs::remove(rank);
  fs::create_symlink("/dev/zero", rank);  // would be read until memory runs out
  EXPECT_EQ(error_of([&] { zero.read(m); }), "checkpoint: " + rank + ": is a character device, not a regular file");
  fs::remove(dir + "/LATEST");
  fs::create_directory(dir + "/LATEST");
  EXPECT_EQ(error_of([&] { zero.latest(); }), "checkpoint: " + dir + "/LATEST: is a directory, not a regular file");
  fs::remove(dir + "/LATEST");
  EXPECT_FALSE(zero.latest()) << "no LATEST: no checkpoint";
}

TEST_F(Checkpoint, ClearTouchesOnlyCheckpoints) {
  const std::string dir = file("run.ckpt");
  CheckpointStore zero(dir, 0, 1);
  zero.write(8, {}, bytes("x"));
  zero.commit(manifest(8, 1));
  std::ofstream(dir + "/notes.txt") << "mine";
  CheckpointStore::clear(dir);
  EXPECT_FALSE(fs::exists(dir + "/LATEST"));
  EXPECT_FALSE(fs::exists(zero.step_dir(8)));
  EXPECT_TRUE(fs::exists(dir + "/notes.txt"));
  fs::remove(dir + "/notes.txt");
  zero.write(8, {}, bytes("x"));
  CheckpointStore::clear(dir);
  EXPECT_FALSE(fs::exists(dir));
}

TEST_F(Checkpoint, ConfigDifferenceNamesTheKey) {
  const nlohmann::json a = {{"train", {{"batch", 64}, {"log_every", 10}}}, {"algorithm", {{"name", "ps"}}}};
  nlohmann::json b = a;
  b["train"]["log_every"] = 99;
  EXPECT_EQ(first_config_difference(a, b, {"train.log_every"}), "");
  b["train"]["batch"] = 32;
  EXPECT_EQ(first_config_difference(a, b, {"train.log_every"}), "'train.batch' (64 in the checkpoint, 32 now)");
  b = a;
  b["algorithm"]["servers"] = 2;
  EXPECT_EQ(first_config_difference(a, b, {}), "'algorithm.servers' (absent in the checkpoint, 2 now)");
}

// ---- resumed run logs ----

RunLogInfo log_info(int workers) {
  RunLogInfo i;
  i.config_json = "{}";
  i.workers = workers;
  i.ranks = workers;
  return i;
}

std::vector<StepRecord> steps(std::int64_t first, int count, int workers) {
  std::vector<StepRecord> out;
  for (int s = 0; s < count; ++s)
    for (int r = 0; r < workers; ++r) out.push_back({first + s, float(first + s + 0.5 * r), 0, 0, 0, 0, -1, 0});
  return out;
}

EvalRecord eval_at(std::int64_t step) {
  EvalRecord e;
  e.step = step;
  e.wall_s = double(step);
  return e;
}

// Opens a log for reading in this process, possibly while a writer here holds it open: HDF5 reuses the
// open file, and the file-locking setting must then match the writer's (off: the claim's lock replaces it).
hid_t open_log(const std::string& path) {
  const hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  H5Pset_file_locking(fapl, false, true);
  const hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl);
  H5Pclose(fapl);
  return f;
}

std::vector<std::int64_t> read_ints(const std::string& path, const char* name) {
  const hid_t f = open_log(path), ds = H5Dopen2(f, name, H5P_DEFAULT);
  const hid_t sp = H5Dget_space(ds);
  std::vector<std::int64_t> v(std::size_t(H5Sget_simple_extent_npoints(sp)));
  if (!v.empty()) H5Dread(ds, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data());
  H5Sclose(sp);
  H5Dclose(ds);
  H5Fclose(f);
  return v;
}

hsize_t rows(const std::string& path, const char* name) {
  const hid_t f = open_log(path), ds = H5Dopen2(f, name, H5P_DEFAULT);
  const hid_t sp = H5Dget_space(ds);
  hsize_t dims[2] = {};
  H5Sget_simple_extent_dims(sp, dims, nullptr);
  H5Sclose(sp);
  H5Dclose(ds);
  H5Fclose(f);
  return dims[0];
}

TEST_F(Checkpoint, ResumedLogIsCutBackToTheCheckpointAndContinues) {
  const std::string path = file("run.h5");
  const int w = 2;
  {  // the first run: checkpoint after step 8, then it logs steps 8..11 and an eval at 12, and is killed
    Hdf5RunLog log(path, log_info(w));
    log.on_steps(steps(0, 4, w), w);
    log.on_eval(eval_at(4));
    log.on_steps(steps(4, 4, w), w);
    log.on_eval(eval_at(8));
    log.on_checkpoint(8);
    log.on_steps(steps(8, 4, w), w);
    log.on_eval(eval_at(12));
  }
  {
    Hdf5RunLog log(path, log_info(w), 8);
    EXPECT_EQ(rows(path, "steps/loss"), 8u);
    EXPECT_EQ(read_ints(path, "eval/step"), (std::vector<std::int64_t>{4, 8}));
    EXPECT_EQ(rows(path, "eval/rank0/top1"), 2u);
    log.on_steps(steps(8, 8, w), w);
    log.on_eval(eval_at(16));
    log.on_finish(3.0);
  }
  std::vector<std::int64_t> all(16);
  for (int i = 0; i < 16; ++i) all[std::size_t(i)] = i;
  EXPECT_EQ(read_ints(path, "steps/step"), all);
  EXPECT_EQ(rows(path, "steps/loss"), 16u);
  EXPECT_EQ(read_ints(path, "eval/step"), (std::vector<std::int64_t>{4, 8, 16}));
  const hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  EXPECT_GT(H5Aexists(f, "resumes"), 0);
  H5Fclose(f);
  EXPECT_FALSE(Hdf5RunLog::mark_finished(path, 1.0)) << "already finished";
}

TEST_F(Checkpoint, ResumeRefusesALogThatCannotContinue) {
  const std::string path = file("run.h5");
  {
    Hdf5RunLog log(path, log_info(2));
    log.on_steps(steps(0, 4, 2), 2);
    log.on_checkpoint(4);  // kept without an evaluation: a checkpoint names it
  }
  const auto refusal = [&](int workers, std::int64_t at) {
    try {
      Hdf5RunLog log(path, log_info(workers), at);
    } catch (const std::runtime_error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(refusal(2, 6).find("it holds 4 of the 6 steps before the checkpoint"), std::string::npos);
  EXPECT_NE(refusal(3, 4).find("written by 2 workers, not 3"), std::string::npos);
  EXPECT_EQ(refusal(2, 4), "no error");
  EXPECT_TRUE(Hdf5RunLog::mark_finished(path, 2.0));
  EXPECT_NE(refusal(2, 4).find("the run already finished"), std::string::npos);
  EXPECT_NE(refusal(2, 4).find(path + ": cannot resume this log"), std::string::npos);
  fs::remove(path);
  EXPECT_NE(refusal(2, 4).find("does not exist"), std::string::npos);
}

}  // namespace
}  // namespace gg
