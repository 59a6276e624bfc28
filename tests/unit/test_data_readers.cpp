// Dataset readers: IDX (plain and gzip), CIFAR-10 binary, gather, and the config entry point.
#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/config/json_reader.hpp"
#include "core/data/cifar_reader.hpp"
#include "core/data/datasets.hpp"
#include "core/data/idx_reader.hpp"
#include "core/util/error.hpp"
#include "tests/unit/data_test_util.hpp"

namespace gg {
namespace {

using test::Bytes;
using test::put_be32;
using test::TempDir;
using test::write;


Bytes idx_images(std::uint32_t n, std::uint32_t rows, std::uint32_t cols, std::uint32_t magic = 0x803) {
  Bytes b;
  put_be32(b, magic), put_be32(b, n), put_be32(b, rows), put_be32(b, cols);
  for (std::uint32_t i = 0; i < n * rows * cols; ++i) b.push_back(std::uint8_t((i * 7) % 256));
  return b;
}
Bytes idx_labels(const std::vector<std::uint8_t>& labels, std::uint32_t magic = 0x801) {
  Bytes b;
  put_be32(b, magic), put_be32(b, std::uint32_t(labels.size()));
  b.insert(b.end(), labels.begin(), labels.end());
  return b;
}

// Runs f, expecting an InputError whose message contains every one of `parts`.
template <class F>
void expect_input_error(F f, std::initializer_list<std::string> parts) {
  try {
    f();
    ADD_FAILURE() << "no InputError thrown";
  } catch (const InputError& e) {
    const std::string msg = e.what();
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    for (const auto& p : parts) EXPECT_NE(msg.find(p), std::string::npos) << "'" << p << "' not in: " << msg;
  }
}

TEST(DataIdx, RoundTripPlainAndGzip) {
  TempDir t;
  const std::vector<std::uint8_t> labels = {3, 0, 9, 1, 1};
  for (bool gz : {false, true}) {
    // gzip detection is by content: the gzipped file deliberately has no .gz suffix
    const auto img = write(t.file(gz ? "img_gz" : "img"), idx_images(5, 3, 4), gz);
    const auto lbl = write(t.file(gz ? "lbl_gz" : "lbl"), idx_labels(labels), gz);
    const Dataset ds = load_idx(img, lbl, "mnist");
    EXPECT_EQ(ds.name, "mnist");
    EXPECT_EQ(ds.size(), 5);
    EXPECT_EQ(ds.sample, (Shape{1, 3, 4, 1}));
    EXPECT_EQ(ds.num_classes, 10);
    EXPECT_EQ(ds.labels, std::vector<std::int32_t>(labels.begin(), labels.end()));
    ASSERT_EQ(ds.images.size(), 60u);
    for (std::size_t i = 0; i < 60; ++i) EXPECT_FLOAT_EQ(ds.images[i], float((i * 7) % 256) / 255.0f);
  }
}

TEST(DataIdx, BadInputsNameFileAndProblem) {
  TempDir t;
  const auto good_img = write(t.file("img"), idx_images(4, 2, 2));
  const auto good_lbl = write(t.file("lbl"), idx_labels({1, 2, 3, 4}));
  auto load = [&](const std::string& i, const std::string& l) { return [=] { load_idx(i, l, "fashion-mnist"); }; };

  expect_input_error(load(t.file("nope"), good_lbl), {"fashion-mnist", t.file("nope"), "not found"});
  expect_input_error(load(good_img, t.file("nope")), {t.file("nope"), "not found"});
  expect_input_error(load(t.path, good_lbl), {t.path, "directory"});
  const auto lbl20 = write(t.file("lbl20"), idx_labels(std::vector<std::uint8_t>(20, 1)));
  expect_input_error(load(lbl20, good_lbl), {lbl20, "magic", "0x00000801", "labels file"});
  const auto short_hdr = write(t.file("short"), Bytes{0, 0, 8});
  expect_input_error(load(short_hdr, good_lbl), {short_hdr, "truncated", "header"});
  const auto odd = write(t.file("odd"), idx_images(1, 0, 5));
  expect_input_error(load(odd, good_lbl), {odd, "image size 0x5"});

  Bytes trunc = idx_images(4, 2, 2);
  trunc.resize(trunc.size() - 3);
  const auto tr = write(t.file("trunc.gz"), trunc, true);
  expect_input_error(load(tr, good_lbl), {tr, "truncated", "header says 4 images of 2x2", "13 bytes of pixel data"});
  Bytes extra = idx_images(4, 2, 2);
  extra.push_back(0);
  const auto ex = write(t.file("extra"), extra);
  expect_input_error(load(ex, good_lbl), {ex, "trailing garbage", "1 bytes"});
  Bytes lshort = idx_labels({1, 2, 3, 4});
  lshort.pop_back();
  const auto ls = write(t.file("lshort"), lshort);
  expect_input_error(load(good_img, ls), {ls, "truncated", "4 labels"});

  const auto three = write(t.file("three"), idx_labels({1, 2, 3}));
  expect_input_error(load(good_img, three), {good_img, three, "4 images", "3 labels"});
  const auto big = write(t.file("big"), idx_labels({1, 2, 10, 4}));
  expect_input_error(load(good_img, big), {big, "label 10", "sample 2", "out of range"});

  // A gzip file cut short mid-stream.
  const auto gz = write(t.file("cut.gz"), idx_images(50, 8, 8), true);
  const auto size = std::filesystem::file_size(gz);
  std::filesystem::resize_file(gz, size / 2);
  expect_input_error(load(gz, good_lbl), {gz, "gzip"});
}

TEST(DataIdx, GatherCopiesSamplesLabelsAndIds) {
  TempDir t;
  const Dataset ds = load_idx(write(t.file("i"), idx_images(6, 2, 3)), write(t.file("l"), idx_labels({0, 1, 2, 3, 4, 5})), "m");
  Batch b;
  const std::int64_t ids[] = {4, 1, 4};
  ds.gather(ids, 3, b);
  EXPECT_EQ(b.x.shape(), (Shape{3, 2, 3, 1}));
  EXPECT_EQ(b.labels, (std::vector<std::int32_t>{4, 1, 4}));
  EXPECT_EQ(b.ids, (std::vector<std::int64_t>{4, 1, 4}));
  for (int k = 0; k < 3; ++k)
    for (int j = 0; j < 6; ++j) EXPECT_EQ(b.x.data()[k * 6 + j], ds.image(ids[k])[j]);
  const float* before = b.x.data();
  ds.gather(ids, 2, b);  // smaller batch: same storage
  EXPECT_EQ(b.x.data(), before);
  EXPECT_EQ(b.size(), 2);
}

Bytes cifar_record(std::uint8_t label, int seed) {
  Bytes r{label};
  for (int c = 0; c < 3; ++c)
    for (int p = 0; p < 1024; ++p) r.push_back(std::uint8_t((seed + c * 50 + p) % 256));
  return r;
}

TEST(DataCifar, ConvertsPlanarChwToNhwc) {
  TempDir t;
  Bytes a = cifar_record(7, 0), b = cifar_record(2, 3);
  a.insert(a.end(), b.begin(), b.end());
  const auto f1 = write(t.file("data_batch_1.bin"), a);
  const auto f2 = write(t.file("data_batch_2.bin"), cifar_record(9, 11));
  const Dataset ds = load_cifar10({f1, f2}, "cifar10");
  ASSERT_EQ(ds.size(), 3);
  EXPECT_EQ(ds.sample, (Shape{1, 32, 32, 3}));
  EXPECT_EQ(ds.labels, (std::vector<std::int32_t>{7, 2, 9}));
  const int seeds[] = {0, 3, 11};
  for (int i = 0; i < 3; ++i)
    for (int y = 0; y < 32; ++y)
      for (int x = 0; x < 32; ++x)
        for (int c = 0; c < 3; ++c)  // NHWC: pixel (y,x) channel c is at (y*32+x)*3+c
          ASSERT_FLOAT_EQ(ds.image(i)[(y * 32 + x) * 3 + c], float((seeds[i] + c * 50 + y * 32 + x) % 256) / 255.0f);
}

TEST(DataCifar, BadInputsNameFileAndProblem) {
  TempDir t;
  auto load = [](std::string p) { return [=] { load_cifar10({p}, "cifar10"); }; };
  expect_input_error(load(t.file("data_batch_1.bin")), {"cifar10", t.file("data_batch_1.bin"), "not found"});
  Bytes r = cifar_record(1, 0);
  r.pop_back();
  const auto cut = write(t.file("cut.bin"), r);
  expect_input_error(load(cut), {cut, "3072 bytes", "not a multiple of the 3073"});
  Bytes two = cifar_record(1, 0), bad = cifar_record(10, 0);
  two.insert(two.end(), bad.begin(), bad.end());
  const auto lab = write(t.file("lab.bin"), two);
  expect_input_error(load(lab), {lab, "record 1", "label 10"});
  const auto empty = write(t.file("empty.bin"), {});
  expect_input_error(load(empty), {empty, "empty"});
}

DatasetPair load_json(const std::string& text) {
  const auto j = nlohmann::json::parse(text);
  JsonReader r(j, "data");
  return load_dataset(r);
}

TEST(DataDatasets, MnistFromDirAcceptsPlainAndGzipAndLimits) {
  TempDir t;
  write(t.file("train-images-idx3-ubyte.gz"), idx_images(20, 4, 4), true);
  write(t.file("train-labels-idx1-ubyte"), idx_labels(std::vector<std::uint8_t>(20, 3)));
  write(t.file("t10k-images-idx3-ubyte"), idx_images(8, 4, 4));
  write(t.file("t10k-labels-idx1-ubyte.gz"), idx_labels(std::vector<std::uint8_t>(8, 5)), true);
  const auto d = load_json(R"({"name": "mnist", "dir": ")" + t.path + R"(", "train_limit": 12})");
  EXPECT_EQ(d.train.name, "mnist/train");
  EXPECT_EQ(d.train.size(), 12);
  EXPECT_EQ(d.test.size(), 8);
  ASSERT_EQ(d.norm.mean.size(), 1u);
  double sum = 0;
  for (float v : d.train.images) sum += v;
  EXPECT_NEAR(sum / double(d.train.images.size()), 0.0, 1e-4);

  const auto raw = load_json(R"({"name": "mnist", "dir": ")" + t.path + R"(", "normalize": false, "test_limit": 1})");
  EXPECT_EQ(raw.test.size(), 1);
  EXPECT_TRUE(raw.norm.mean.empty());
  EXPECT_FLOAT_EQ(raw.train.images[1], 7.0f / 255.0f);
}

TEST(DataDatasets, ConfigErrors) {
  expect_input_error([] { load_json(R"({"name": "imagenet"})"); }, {"data.name", "fashion-mnist", "imagenet"});
  expect_input_error([] { load_json(R"({"name": "mnist"})"); }, {"data.dir", "required"});
  expect_input_error([] { load_json(R"({"name": "synthetic", "colour": 1})"); }, {"unknown key", "data.colour"});
  expect_input_error([] { load_json(R"({"name": "synthetic", "shape": [2, 2]})"); }, {"data.shape", "[h, w, c]"});
  expect_input_error([] { load_json(R"({"name": "mnist", "dir": "/nonexistent/x"})"); },
                     {"mnist", "/nonexistent/x/train-images-idx3-ubyte.gz", "exists"});
  expect_input_error([] { load_json(R"({"name": "cifar10", "dir": "/nonexistent/c"})"); },
                     {"cifar10", "/nonexistent/c/data_batch_1.bin", "not found"});
}

TEST(DataDatasets, Cifar10FromDir) {
  TempDir t;
  for (int i = 1; i <= 5; ++i) write(t.file("data_batch_" + std::to_string(i) + ".bin"), cifar_record(std::uint8_t(i), i));
  write(t.file("test_batch.bin"), cifar_record(0, 0));
  const auto d = load_json(R"({"name": "cifar10", "dir": ")" + t.path + R"("})");
  EXPECT_EQ(d.train.size(), 5);
  EXPECT_EQ(d.test.size(), 1);
  EXPECT_EQ(d.train.labels, (std::vector<std::int32_t>{1, 2, 3, 4, 5}));
  EXPECT_EQ(d.norm.mean.size(), 3u);
}

TEST(DataDatasets, RealFashionMnistTestSet) {
  if (!std::filesystem::exists(kFashionMnistDir))
    GTEST_SKIP() << kFashionMnistDir << " is missing (install dataset-fashion-mnist)";
  const auto d = load_json(R"({"name": "fashion-mnist", "train_limit": 100})");
  EXPECT_EQ(d.test.size(), 10000);
  EXPECT_EQ(d.test.sample, (Shape{1, 28, 28, 1}));
  EXPECT_EQ(d.test.num_classes, 10);
  std::vector<int> per_class(10, 0);
  for (auto l : d.test.labels) ++per_class[std::size_t(l)];
  for (int c : per_class) EXPECT_EQ(c, 1000);  // Fashion-MNIST's test set is balanced
}

}  // namespace
}  // namespace gg
