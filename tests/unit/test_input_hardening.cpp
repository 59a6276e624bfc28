// Input hardening: config limits (depth, NUL, size, special files), one-line messages, allocation
// checks, readers that check header counts against the real size before allocating (a forged gzip
// trailer included), and the divergence check's agreement among workers.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "core/comm/inproc_communicator.hpp"
#include "core/config/run_config.hpp"
#include "core/data/cifar_reader.hpp"
#include "core/data/file_bytes.hpp"
#include "core/data/idx_reader.hpp"
#include "core/train/health.hpp"
#include "core/util/error.hpp"
#include "core/util/memory.hpp"
#include "core/util/message.hpp"
#include "core/util/regular_file.hpp"
#include "tests/unit/data_test_util.hpp"

namespace gg {
namespace {

using test::Bytes;
using test::put_be32;
using test::TempDir;
using test::write;

// The InputError message of f(), or "" if it did not throw one.
template <class F>
std::string error_of(F f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

TEST(InputHardening, ShownEscapesControlCharactersAndShortensTheMiddle) {
  EXPECT_EQ(shown("a\nb\tc\r\x01"), "a\\nb\\tc\\r\\x01");
  const std::string long_name = "/data/" + std::string(500, 'x') + "/end.bin";
  const std::string s = shown(long_name, 60);
  EXPECT_EQ(s.size(), 60u);
  EXPECT_EQ(s.substr(0, 6), "/data/");
  EXPECT_EQ(s.substr(s.size() - 8), "/end.bin");
  EXPECT_TRUE(has(s, "..."));
  EXPECT_EQ(shown(std::string(100, '\xc3') + std::string(100, '\xa9'), 20).find("\xa9..."), std::string::npos)
      << "cut at a UTF-8 character boundary";
  EXPECT_EQ(human_bytes(512), "512 B");
  EXPECT_EQ(human_bytes(1.5 * 1024 * 1024 * 1024), "1.5 GiB");
}

TEST(InputHardening, AllocationsBeyondPhysicalMemoryAreRefusedWithTheSize) {
  const std::string e = error_of([] { check_allocation(std::size_t(1) << 50, 4, "storing the moon"); });
  EXPECT_TRUE(has(e, "storing the moon: needs 4.0 PiB, more than this machine's")) << e;
  std::vector<float> v;
  EXPECT_TRUE(has(error_of([&] { resize_checked(v, std::numeric_limits<std::size_t>::max() / 2, "x"); }),
                  "x: cannot allocate"));
  resize_checked(v, 10, "ten floats");
  EXPECT_EQ(v.size(), 10u);
}

TEST(InputHardening, ConfigDepthNulTrailingBytesAndType) {
  const std::string deep = "{\"model\": " + std::string(100000, '[') + std::string(100000, ']') + "}";
  EXPECT_EQ(error_of([&] { parse_config_text(deep, "c.json"); }), "c.json: nested deeper than 64 levels at line 1, column 74");
  std::string nested = "{\"a\": {\"b\": [\"[[[[\", ";  // brackets inside strings do not count
  for (int i = 0; i < 60; ++i) nested += "[";
  nested += "1";
  for (int i = 0; i < 60; ++i) nested += "]";
  nested += "]}}";
  EXPECT_EQ(error_of([&] { parse_config_text(nested, "c.json"); }), "");
  EXPECT_EQ(error_of([&] { parse_config_text(std::string("{\"name\": \"x\"}\0{\"a\": 1}", 22), "c.json"); }),
            "c.json: NUL byte at line 1, column 14 (a config is JSON text)");
  EXPECT_TRUE(has(error_of([] { parse_config_text("{} {}", "c.json"); }), "c.json: malformed JSON at line 1, column 4"));
  EXPECT_EQ(error_of([] { parse_config_text("\"text\"", "c.json"); }), "c.json: the config must be a JSON object, got string");
  // Found by fuzz_config: a number beyond a double threw nlohmann's out_of_range, not a parse error.
  EXPECT_EQ(error_of([] { parse_config_text("{\"train\": {\"epochs\": 1e400}}", "c.json"); }),
            "c.json: number overflow parsing '1e400'");
  EXPECT_TRUE(has(error_of([] { parse_config_text("{\"a\":\n\"b\nc\"}", "c.json"); }), "malformed JSON at line 2"));
  EXPECT_EQ(error_of([] { parse_config_text("{\"a\":\n\"b\nc\"}", "c.json"); }).find('\n'), std::string::npos);
}

TEST(InputHardening, OverridesAreBounded) {
  nlohmann::json doc = nlohmann::json::object();
  EXPECT_TRUE(has(error_of([&] { apply_override(doc, "train.batch=" + std::string(70, '[') + std::string(70, ']')); }),
                  "the value nests deeper than 64 levels"));
  EXPECT_TRUE(has(error_of([&] { apply_override(doc, "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q=1"); }),
                  "a key path has at most 16 parts"));
  const std::string e = error_of([&] { apply_override(doc, std::string(5000, 'k') + "\n"); });
  EXPECT_TRUE(has(e, "expected key.path=value")) << e;
  EXPECT_LT(e.size(), 300u);
  EXPECT_EQ(e.find('\n'), std::string::npos);
}

TEST(InputHardening, ConfigFilesMustBeRegularAndSmall) {
  TempDir t;
  EXPECT_EQ(error_of([&] { load_config_json(t.path, {}); }), "--config: " + t.path + ": is a directory, not a regular file");
  const std::string fifo = t.file("fifo.json");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_EQ(error_of([&] { load_config_json(fifo, {}); }), "--config: " + fifo + ": is a FIFO (named pipe), not a regular file");
  EXPECT_EQ(error_of([] { load_config_json("/dev/zero", {}); }), "--config: /dev/zero: is a character device, not a regular file");
  EXPECT_EQ(error_of([&] { load_config_json(t.file("none.json"), {}); }), "--config: " + t.file("none.json") + ": file not found");
  const std::string big = t.file("big.json");
  write(big, Bytes(std::size_t(kMaxConfigBytes) + 1, ' '));
  EXPECT_TRUE(has(error_of([&] { load_config_json(big, {}); }), "is 16.0 MiB, larger than the 16.0 MiB"));
}

TEST(InputHardening, StallLimitsAndHealthKeysAreValidated) {
  nlohmann::json doc = load_config_json("", {"comm.stall_warn_s=30", "comm.stall_abort_s=10"});
  EXPECT_TRUE(has(error_of([&] { parse_run_config(doc); }), "'comm.stall_abort_s' (10) must be larger than"));
  doc = load_config_json("", {"comm.stall_warn_s=0", "comm.stall_abort_s=10", "train.max_loss=0"});
  const RunConfig rc = parse_run_config(doc);
  EXPECT_EQ(rc.stall.warn_s, 0);
  EXPECT_EQ(rc.stall.abort_s, 10);
  EXPECT_EQ(rc.train.max_loss, 0);
  EXPECT_EQ(rc.train.health_every, 100);
  EXPECT_TRUE(has(error_of([] { parse_run_config(load_config_json("", {"train.max_steps=1e16"})); }), "max_steps"));
}

Bytes idx_header(std::uint32_t magic, std::uint32_t count, std::uint32_t rows = 0, std::uint32_t cols = 0) {
  Bytes b;
  put_be32(b, magic), put_be32(b, count);
  if (magic == 0x803) put_be32(b, rows), put_be32(b, cols);
  return b;
}

TEST(InputHardening, IdxClaimsAreCheckedAgainstTheRealSizeBeforeAllocating) {
  TempDir t;
  Bytes images = idx_header(0x803, 4000000000u, 28, 28);
  images.resize(images.size() + 784 * 2, 7);
  Bytes labels = idx_header(0x801, 2);
  labels.push_back(1), labels.push_back(2);
  const std::string lbl = write(t.file("labels"), labels);
  for (bool gz : {false, true}) {
    const std::string img = write(t.file(gz ? "images.gz" : "images"), images, gz);
    const std::string e = error_of([&] { load_idx(img, lbl, "mnist"); });
    EXPECT_EQ(e, "mnist: " + img + ": truncated: header says 4000000000 images of 28x28 but file holds 1568 bytes of "
                                   "pixel data")
        << (gz ? "gzip" : "plain");
  }
  // A gzip file whose trailer is forged to agree with a huge header: not trusted (deflate cannot inflate
  // a file of this size that far), so the file is counted, and zlib finds the forged length.
  Bytes forged = idx_header(0x803, 1000000, 28, 28);
  forged.resize(forged.size() + 784, 3);
  const std::string fp = write(t.file("forged.gz"), forged, true);
  {
    std::FILE* f = std::fopen(fp.c_str(), "r+b");
    ASSERT_NE(f, nullptr);
    std::fseek(f, -4, SEEK_END);
    const std::uint32_t claimed = 16 + 784u * 1000000u;
    const unsigned char le[4] = {std::uint8_t(claimed), std::uint8_t(claimed >> 8), std::uint8_t(claimed >> 16),
                                 std::uint8_t(claimed >> 24)};
    std::fwrite(le, 1, 4, f);
    std::fclose(f);
  }
  ByteReader r(fp, "mnist");
  EXPECT_TRUE(has(error_of([&] { r.total_size([](std::uint64_t) { return true; }); }),
                  "mnist: " + fp + ": truncated or corrupt gzip data (incorrect length check) after "));
  EXPECT_TRUE(has(error_of([&] { load_idx(fp, lbl, "mnist"); }), "(incorrect length check)"));
  // Labels claiming more than they hold: reported before the images are decoded.
  Bytes small = idx_header(0x803, 2, 28, 28);
  small.resize(small.size() + 784 * 2, 1);
  const std::string ok_img = write(t.file("small"), small);
  const std::string many = write(t.file("many_labels"), idx_header(0x801, 3000000000u));
  EXPECT_TRUE(has(error_of([&] { load_idx(ok_img, many, "mnist"); }), "truncated: header says 3000000000 labels"));
}

TEST(InputHardening, SpecialFilesAreRefusedByTypeWithoutBlocking) {
  TempDir t;
  const std::string fifo = t.file("train-images-idx3-ubyte");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_EQ(error_of([&] { ReadFile f(fifo, "mnist"); }), "mnist: " + fifo + ": is a FIFO (named pipe), not a regular file");
  EXPECT_EQ(error_of([&] { load_idx(fifo, fifo, "mnist"); }), "mnist: " + fifo + ": is a FIFO (named pipe), not a regular file");
  EXPECT_EQ(error_of([&] { load_cifar10({t.path}, "cifar10"); }), "cifar10: " + t.path + ": is a directory, not a regular file");
  const std::string link = t.file("zero");
  ASSERT_EQ(symlink("/dev/zero", link.c_str()), 0);
  EXPECT_EQ(error_of([&] { load_cifar10({link}, "cifar10"); }), "cifar10: " + link + ": is a character device, not a regular file");
}

TEST(InputHardening, CifarGzipIsCountedNotTrusted) {
  TempDir t;
  Bytes rec(kCifarRecord, 9);
  rec[0] = 4;
  Bytes two = rec;
  two.insert(two.end(), rec.begin(), rec.end());
  const std::string gz = write(t.file("batch.gz"), two, true);
  const Dataset ds = load_cifar10({gz}, "cifar10");
  EXPECT_EQ(ds.labels, (std::vector<std::int32_t>{4, 4}));
  two.pop_back();
  const std::string bad = write(t.file("bad.gz"), two, true);
  EXPECT_TRUE(has(error_of([&] { load_cifar10({bad}, "cifar10"); }), "is not a multiple of the 3073-byte"));
}

// Four workers as threads; worker `bad` sees `loss` at step `at`; every worker gets the same verdict.
std::vector<std::string> verdicts(int bad, float loss, std::int64_t at, double max_loss, const EvalRecord* eval) {
  std::vector<std::string> out(4);
  run_ranks(4, [&](Communicator& c) {
    HealthMonitor h(max_loss, 10, c);
    for (std::int64_t s = 0; s < 10; ++s) h.on_step(s, c.rank() == bad && s >= at ? loss : 2.3f);
    EXPECT_TRUE(h.due(10));
    EXPECT_FALSE(h.due(11));
    out[std::size_t(c.rank())] = h.agree(10, eval);
  });
  return out;
}

TEST(InputHardening, DivergenceIsAgreedByEveryWorker) {
  for (const std::string& v : verdicts(-1, 0, 0, 1e4, nullptr)) EXPECT_EQ(v, "");
  for (const std::string& v : verdicts(2, std::nanf(""), 6, 1e4, nullptr))
    EXPECT_EQ(v, "training diverged: worker 2's batch loss was nan at step 6 (1 of 4 workers diverged by step 10); "
                 "lower optimizer.lr (or raise train.max_loss)");
  for (const std::string& v : verdicts(3, 1e27f, 4, 1e4, nullptr))
    EXPECT_TRUE(has(v, "worker 3's batch loss was 1e+27, above train.max_loss 1e+04 at step 4")) << v;
  for (const std::string& v : verdicts(3, 1e27f, 4, 0, nullptr)) EXPECT_EQ(v, "") << "max_loss 0: only non-finite";
  EvalRecord e;
  e.consensus = std::nan("");
  for (const std::string& v : verdicts(-1, 0, 0, 1e4, &e))
    EXPECT_TRUE(has(v, "the consensus distance is nan at step 10")) << v;
}

}  // namespace
}  // namespace gg
