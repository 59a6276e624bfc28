// The HDF5 run log, read back through the HDF5 C API, and the output-path check.
#include <gtest/gtest.h>
#include <hdf5.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/log/hdf5_run_log.hpp"
#include "core/log/output_claim.hpp"
#include "core/train/run_sink_factory.hpp"
#include "core/util/error.hpp"

namespace gg {
namespace {

namespace fs = std::filesystem;

// A fresh directory per test, removed afterwards.
class LogHdf5 : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() / ("gg_log_" + std::string(info->name()) + "_" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string file(const std::string& name) const { return (dir_ / name).string(); }
  fs::path dir_;
};

RunLogInfo info(int workers) {
  RunLogInfo i;
  i.config_json = R"({"name": "t", "train": {"batch": 8}})";
  i.mpi_library = "Test MPI 1.0";
  i.model_layers = R"([{"name": "fc", "kind": "dense"}])";
  i.workers = workers;
  i.ranks = workers + 1;
  i.num_params = 1234;
  return i;
}

// Records whose every field tells step and rank apart.
std::vector<StepRecord> steps(std::int64_t first, int count, int workers) {
  std::vector<StepRecord> out;
  for (int s = 0; s < count; ++s)
    for (int r = 0; r < workers; ++r) {
      const std::int64_t step = first + s;
      StepRecord rec;
      rec.step = step;
      rec.loss = float(step + r);
      rec.compute_s = 0.01f * float(step);
      rec.comm_s = 0.001f * float(r);
      rec.exposed_s = 0.0001f * float(r);
      rec.total_s = 0.002f * float(r);
      rec.mem_s = 0.003f * float(step);
      rec.staging_s = 0.004f * float(r);
      rec.partner = std::int32_t((r + 1) % workers);
      rec.staleness = r % 2;
      rec.bytes_sent = std::uint64_t(1000 * step + r);
      rec.bytes_recv = std::uint64_t(2000 * step + r);
      rec.msgs_sent = std::uint64_t(step + 7 * r);
      rec.mem_bytes = std::uint64_t(5 * step + r);
      out.push_back(rec);
    }
  return out;
}

EvalRecord eval(std::int64_t step, double top1) {
  EvalRecord e;
  e.step = step;
  e.epoch = double(step) / 10;
  e.wall_s = double(step);
  e.rank0 = {2.0, top1, 0.9};
  e.averaged = {1.5, top1 + 0.01, 0.95};
  e.replica_min = {2.5, top1 - 0.02, 0.8};
  e.replica_max = {1.9, top1 + 0.02, 0.99};
  e.consensus = 1.0 / double(step);
  return e;
}

// Read-only access to a finished (or abandoned) file.
class Reader {
 public:
  explicit Reader(const std::string& path) : file_(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT)) {}
  ~Reader() {
    if (file_ >= 0) H5Fclose(file_);
  }
  bool ok() const { return file_ >= 0; }
  // Whether the dataset's chunks carry HDF5's fletcher32 checksum.
  bool checksummed(const char* name) const {
    const hid_t ds = H5Dopen2(file_, name, H5P_DEFAULT), dcpl = H5Dget_create_plist(ds);
    unsigned flags = 0;
    size_t n = 0;
    const bool has = H5Pget_filter_by_id2(dcpl, H5Z_FILTER_FLETCHER32, &flags, &n, nullptr, 0, nullptr, nullptr) >= 0;
    H5Pclose(dcpl);
    H5Dclose(ds);
    return has;
  }
  std::vector<hsize_t> shape(const char* name) const {
    const hid_t ds = H5Dopen2(file_, name, H5P_DEFAULT), sp = H5Dget_space(ds);
    std::vector<hsize_t> dims(std::size_t(H5Sget_simple_extent_ndims(sp)));
    H5Sget_simple_extent_dims(sp, dims.data(), nullptr);
    H5Sclose(sp);
    H5Dclose(ds);
    return dims;
  }
  template <class T>
  std::vector<T> read(const char* name, hid_t type) const {
    std::size_t n = 1;
    for (hsize_t d : shape(name)) n *= d;
    std::vector<T> out(n);
    const hid_t ds = H5Dopen2(file_, name, H5P_DEFAULT);
    if (n) H5Dread(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data());
    H5Dclose(ds);
    return out;
  }
  bool has_attr(const char* name) const { return H5Aexists(file_, name) > 0; }
  std::int64_t attr_int(const char* name) const { return attr<std::int64_t>(name, H5T_NATIVE_INT64); }
  double attr_double(const char* name) const { return attr<double>(name, H5T_NATIVE_DOUBLE); }
  std::string attr_string(const char* name) const {
    const hid_t a = H5Aopen(file_, name, H5P_DEFAULT), t = H5Aget_type(a);
    char* p = nullptr;
    H5Aread(a, t, &p);
    std::string s = p ? p : "";
    H5free_memory(p);
    H5Tclose(t);
    H5Aclose(a);
    return s;
  }

 private:
  template <class T>
  T attr(const char* name, hid_t type) const {
    T v{};
    const hid_t a = H5Aopen(file_, name, H5P_DEFAULT);
    H5Aread(a, type, &v);
    H5Aclose(a);
    return v;
  }
  hid_t file_;
};

// What h5dump (hdf5-tools), another process with HDF5's default file locking as a user's reader
// has, prints for the root attribute `finished` and the dataset `dataset` of path; "" if h5dump is
// missing. (A forked child would share this process's open HDF5 file, so it must be another program.)
std::string dump_in_other_process(const std::string& path, const std::string& dataset) {
  if (::access("/usr/bin/h5dump", X_OK) != 0) return "";
  const std::string cmd = "/usr/bin/h5dump -a /finished -d " + dataset + " '" + path + "' 2>&1";
  std::string out;
  if (FILE* p = ::popen(cmd.c_str(), "r")) {
    char buf[4096];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
    ::pclose(p);
  }
  return out;
}

// The names in a directory (hidden ones included).
std::vector<std::string> listing(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

TEST_F(LogHdf5, WritesAttributesStepsAndEvaluations) {
  const std::string path = file("run.h5");
  const int w = 3;
  {
    Hdf5RunLog log(path, info(w));
    log.on_steps(steps(0, 4, w), w);
    log.on_eval(eval(4, 0.5));
    log.on_steps(steps(4, 2, w), w);
    log.on_eval(eval(6, 0.6));
    // Another process reads the live log (flushed at each write; not finished yet).
    const std::string live = dump_in_other_process(path, "/eval/step");
    if (!live.empty()) {
      EXPECT_NE(live.find("(0): 0\n"), std::string::npos) << "finished must be 0:\n" << live;
      EXPECT_NE(live.find("(0): 4, 6\n"), std::string::npos) << "both evaluations must be there:\n" << live;
      EXPECT_EQ(live.find("rror"), std::string::npos) << live;
    }
    log.on_finish(12.5);
  }
  Reader r(path);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.attr_int("schema_version"), Hdf5RunLog::kSchemaVersion);
  EXPECT_EQ(r.attr_int("finished"), 1);
  EXPECT_DOUBLE_EQ(r.attr_double("wall_s"), 12.5);
  EXPECT_EQ(r.attr_int("workers"), w);
  EXPECT_EQ(r.attr_int("ranks"), w + 1);
  EXPECT_EQ(r.attr_int("num_params"), 1234);
  EXPECT_EQ(r.attr_string("config"), info(w).config_json);
  EXPECT_EQ(r.attr_string("mpi_library"), "Test MPI 1.0");
  EXPECT_EQ(r.attr_string("model_layers"), info(w).model_layers);
  for (const char* a : {"git_revision", "host", "hdf5_version", "compiler", "start_time"})
    EXPECT_FALSE(r.attr_string(a).empty()) << a;
  EXPECT_EQ(r.attr_string("start_time").back(), 'Z');

  EXPECT_EQ(r.shape("/steps/compute_s"), (std::vector<hsize_t>{6, 3}));
  EXPECT_EQ(r.shape("/steps/loss_mean"), (std::vector<hsize_t>{6}));
  const auto bytes = r.read<std::uint64_t>("/steps/bytes_sent", H5T_NATIVE_UINT64);
  const auto partner = r.read<std::int32_t>("/steps/partner", H5T_NATIVE_INT32);
  const auto loss = r.read<float>("/steps/loss", H5T_NATIVE_FLOAT);
  const auto comm = r.read<float>("/steps/comm_s", H5T_NATIVE_FLOAT);
  const auto exposed = r.read<float>("/steps/exposed_s", H5T_NATIVE_FLOAT);
  const auto total = r.read<float>("/steps/total_s", H5T_NATIVE_FLOAT);
  const auto mem = r.read<float>("/steps/mem_s", H5T_NATIVE_FLOAT);
  const auto staging = r.read<float>("/steps/staging_s", H5T_NATIVE_FLOAT);
  const auto recv = r.read<std::uint64_t>("/steps/bytes_recv", H5T_NATIVE_UINT64);
  const auto msgs = r.read<std::uint64_t>("/steps/msgs_sent", H5T_NATIVE_UINT64);
  const auto mem_bytes = r.read<std::uint64_t>("/steps/mem_bytes", H5T_NATIVE_UINT64);
  const auto stale = r.read<std::int32_t>("/steps/staleness", H5T_NATIVE_INT32);
  for (int s = 0; s < 6; ++s)
    for (int k = 0; k < w; ++k) {
      const std::size_t i = std::size_t(s * w + k);
      EXPECT_EQ(bytes[i], std::uint64_t(1000 * s + k));
      EXPECT_EQ(recv[i], std::uint64_t(2000 * s + k));
      EXPECT_EQ(msgs[i], std::uint64_t(s + 7 * k));
      EXPECT_EQ(mem_bytes[i], std::uint64_t(5 * s + k));
      EXPECT_EQ(partner[i], (k + 1) % w);
      EXPECT_EQ(stale[i], k % 2);
      EXPECT_FLOAT_EQ(loss[i], float(s + k));
      EXPECT_FLOAT_EQ(comm[i], 0.001f * float(k));
      EXPECT_FLOAT_EQ(exposed[i], 0.0001f * float(k));
      EXPECT_FLOAT_EQ(total[i], 0.002f * float(k));
      EXPECT_FLOAT_EQ(mem[i], 0.003f * float(s));
      EXPECT_FLOAT_EQ(staging[i], 0.004f * float(k));
    }
  const auto loss_mean = r.read<float>("/steps/loss_mean", H5T_NATIVE_FLOAT);
  const auto step = r.read<std::int64_t>("/steps/step", H5T_NATIVE_INT64);
  for (int s = 0; s < 6; ++s) {
    EXPECT_FLOAT_EQ(loss_mean[std::size_t(s)], float(s + 1));  // mean of s, s+1, s+2
    EXPECT_EQ(step[std::size_t(s)], s);
  }

  EXPECT_EQ(r.read<std::int64_t>("/eval/step", H5T_NATIVE_INT64), (std::vector<std::int64_t>{4, 6}));
  EXPECT_EQ(r.read<double>("/eval/epoch", H5T_NATIVE_DOUBLE), (std::vector<double>{0.4, 0.6}));
  EXPECT_EQ(r.read<double>("/eval/consensus", H5T_NATIVE_DOUBLE), (std::vector<double>{0.25, 1.0 / 6}));
  EXPECT_EQ(r.read<double>("/eval/rank0/top1", H5T_NATIVE_DOUBLE), (std::vector<double>{0.5, 0.6}));
  EXPECT_EQ(r.read<double>("/eval/averaged/loss", H5T_NATIVE_DOUBLE), (std::vector<double>{1.5, 1.5}));
  EXPECT_EQ(r.read<double>("/eval/replica_min/top5", H5T_NATIVE_DOUBLE), (std::vector<double>{0.8, 0.8}));
  const auto hi = r.read<double>("/eval/replica_max/top1", H5T_NATIVE_DOUBLE);
  ASSERT_EQ(hi.size(), 2u);
  EXPECT_DOUBLE_EQ(hi[1], 0.62);
}

TEST_F(LogHdf5, EveryDatasetCarriesAChecksum) {
  const std::string path = file("sums.h5");
  {
    Hdf5RunLog log(path, info(2));
    log.on_steps(steps(0, 3, 2), 2);
    log.on_eval(eval(3, 0.4));
  }
  Reader r(path);
  ASSERT_TRUE(r.ok());
  for (const char* ds : {"/steps/compute_s", "/steps/loss_mean", "/steps/partner", "/eval/step", "/eval/rank0/top1"})
    EXPECT_TRUE(r.checksummed(ds)) << ds << ": no fletcher32 filter";
}

TEST_F(LogHdf5, UnfinishedWriterLeavesReadableFile) {
  const std::string path = file("unfinished.h5");
  {
    Hdf5RunLog log(path, info(2));
    log.on_steps(steps(0, 3, 2), 2);
    log.on_eval(eval(3, 0.4));
  }  // destroyed without on_finish
  Reader r(path);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.attr_int("finished"), 0);
  EXPECT_EQ(r.shape("/steps/partner"), (std::vector<hsize_t>{3, 2}));
  EXPECT_EQ(r.shape("/eval/step"), (std::vector<hsize_t>{1}));
}

TEST_F(LogHdf5, KilledWriterLeavesReadableFileUpToLastEvaluation) {
  const std::string path = file("killed.h5");
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {  // writes, flushes at the evaluation, then dies without closing anything
    Hdf5RunLog log(path, info(2));
    log.on_steps(steps(0, 5, 2), 2);
    log.on_eval(eval(5, 0.3));
    _exit(0);
  }
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  Reader r(path);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.attr_int("finished"), 0);
  EXPECT_EQ(r.shape("/steps/loss"), (std::vector<hsize_t>{5, 2}));
  EXPECT_EQ(r.read<double>("/eval/rank0/top1", H5T_NATIVE_DOUBLE), (std::vector<double>{0.3}));
}

TEST_F(LogHdf5, NoEvaluationMeansNoFile) {
  const std::string path = file("setup_failed.h5");
  {
    Hdf5RunLog log(path, info(2));
    log.on_steps(steps(0, 3, 2), 2);  // steps alone do not publish the log
    EXPECT_FALSE(fs::exists(path));
    EXPECT_TRUE(fs::exists(OutputClaim::staging_for(path)));
  }
  EXPECT_EQ(listing(dir_), std::vector<std::string>{}) << "the staging file must be removed too";
}

TEST_F(LogHdf5, TheFirstEvaluationPublishesTheLog) {
  const std::string path = file("run.h5");
  Hdf5RunLog log(path, info(1));
  EXPECT_EQ(listing(dir_), std::vector<std::string>{".run.h5.part"});
  log.on_steps(steps(0, 2, 1), 1);
  log.on_eval(eval(2, 0.1));
  EXPECT_EQ(listing(dir_), std::vector<std::string>{"run.h5"});
  EXPECT_TRUE(log.published());
}

TEST_F(LogHdf5, ASecondRunOnTheSamePathIsRefusedAndTheFirstLogStaysIntact) {
  const std::string path = file("run.h5");
  {
    Hdf5RunLog first(path, info(2));
    // While the first run sets up (staging, not yet published) ...
    try {
      Hdf5RunLog second(path, info(2));
      FAIL() << "a second writer was allowed while the first sets up";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("another gg_train run is setting up"), std::string::npos) << e.what();
    }
    first.on_steps(steps(0, 3, 2), 2);
    first.on_eval(eval(3, 0.4));
    // ... and once its log is published.
    try {
      Hdf5RunLog second(path, info(2));
      FAIL() << "a second writer was allowed on a live log";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("output.path: " + path + ": a running gg_train writes it"),
                std::string::npos)
          << e.what();
    }
    EXPECT_THROW(check_output_writable(path), InputError);
    first.on_steps(steps(3, 2, 2), 2);
    first.on_eval(eval(5, 0.5));
    first.on_finish(1.0);
  }
  Reader r(path);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.attr_int("finished"), 1);
  EXPECT_EQ(r.shape("/steps/loss"), (std::vector<hsize_t>{5, 2}));
  EXPECT_EQ(r.read<std::int64_t>("/eval/step", H5T_NATIVE_INT64), (std::vector<std::int64_t>{3, 5}));
  EXPECT_EQ(listing(dir_), std::vector<std::string>{"run.h5"});
}

TEST_F(LogHdf5, AnOlderLogSurvivesARunThatFailsBeforeItsFirstEvaluation) {
  const std::string path = file("run.h5");
  {
    Hdf5RunLog old(path, info(1));
    old.on_steps(steps(0, 4, 1), 1);
    old.on_eval(eval(4, 0.7));
    old.on_finish(2.0);
  }
  check_output_writable(path);  // a finished log may be replaced
  {
    Hdf5RunLog failed(path, info(3));
    failed.on_steps(steps(0, 1, 3), 3);
  }  // destroyed before any evaluation
  EXPECT_EQ(listing(dir_), std::vector<std::string>{"run.h5"});
  {
    Reader r(path);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.attr_int("workers"), 1);
    EXPECT_EQ(r.read<double>("/eval/rank0/top1", H5T_NATIVE_DOUBLE), (std::vector<double>{0.7}));
  }
  {
    Hdf5RunLog replacing(path, info(3));
    replacing.on_steps(steps(0, 1, 3), 3);
    replacing.on_eval(eval(1, 0.2));  // now the new log replaces the old one
  }
  Reader r(path);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.attr_int("workers"), 3);
  EXPECT_EQ(r.attr_int("finished"), 0);
}

TEST_F(LogHdf5, OutputCheckRejectsSpecialFiles) {
  const std::string fifo = file("fifo.h5");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  try {
    check_output_writable(fifo);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("is a FIFO (named pipe), not a regular file"), std::string::npos) << e.what();
  }
  EXPECT_THROW(Hdf5RunLog(fifo, info(1)), InputError);
  EXPECT_THROW(check_output_writable("/dev/null"), InputError);
}

TEST_F(LogHdf5, RejectsMismatchedWorkerCount) {
  Hdf5RunLog log(file("w.h5"), info(2));
  EXPECT_THROW(log.on_steps(steps(0, 1, 3), 3), std::logic_error);
}

TEST_F(LogHdf5, CreateFailureNamesThePath) {
  std::ofstream(file("plain")) << "x";  // a file where a folder would have to be
  const std::string path = file("plain/sub/run.h5");
  try {
    Hdf5RunLog log(path, info(1));
    FAIL() << "expected an exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
}

TEST_F(LogHdf5, OutputCheckCreatesNothing) {
  const std::string path = file("a/b/run.h5");
  check_output_writable(path);
  EXPECT_EQ(listing(dir_), std::vector<std::string>{});
  try {
    check_output_writable(file(std::string(300, 'n') + "/run.h5"));
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("is 300 bytes long; this file system allows"), std::string::npos) << e.what();
  }
}

TEST_F(LogHdf5, TheClaimMakesMissingFoldersAndRemovesThemUnpublished) {
  const std::string path = file("a/b/run.h5");
  {
    Hdf5RunLog log(path, info(1));
    EXPECT_TRUE(fs::exists(dir_ / "a/b/.run.h5.part"));
  }
  EXPECT_EQ(listing(dir_), std::vector<std::string>{});
  {
    Hdf5RunLog log(path, info(1));
    log.on_steps(steps(0, 1, 1), 1);
    log.on_eval(eval(1, 0.5));
  }
  EXPECT_TRUE(fs::exists(path));
}

TEST_F(LogHdf5, OutputCheckRejectsDirectory) {
  try {
    check_output_writable(dir_.string());
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("output.path: " + dir_.string()), std::string::npos) << msg;
    EXPECT_NE(msg.find("directory"), std::string::npos) << msg;
  }
}

TEST_F(LogHdf5, OutputCheckRejectsUnwritablePath) {
  // /proc refuses new files even for root; a file used as a directory fails for everyone.
  EXPECT_THROW(check_output_writable("/proc/gg_run.h5"), InputError);
  std::ofstream(file("plain")) << "x";
  try {
    check_output_writable(file("plain/run.h5"));
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(file("plain/run.h5")), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace gg
