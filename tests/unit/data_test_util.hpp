#pragma once
// Helpers shared by the data tests: a dataset whose samples name themselves, draining a sampler's
// epoch, a temporary directory, and writing raw or gzipped files (IDX and CIFAR fixtures are built
// byte by byte in the tests).
#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/data/dataset.hpp"
#include "core/data/sampler.hpp"

namespace gg::test {

using Bytes = std::vector<std::uint8_t>;

// Sample i: label i % 10, every pixel i (so ids can be read back from a batch).
inline Dataset indexed(std::int64_t n) {
  Dataset ds;
  ds.name = "indexed";
  ds.sample = Shape{1, 2, 2, 1};
  ds.num_classes = 10;
  for (std::int64_t i = 0; i < n; ++i) {
    ds.labels.push_back(std::int32_t(i % 10));
    for (int k = 0; k < 4; ++k) ds.images.push_back(float(i));
  }
  return ds;
}

// Every id one worker serves in its next epoch, checking each sample of indexed() against its id.
inline std::vector<std::int64_t> one_epoch(ShardSampler& s, const Dataset& ds) {
  std::vector<std::int64_t> ids;
  Batch b;
  for (std::int64_t k = 0; k < s.steps_per_epoch(); ++k) {
    s.next(ds, b);
    for (int j = 0; j < b.size(); ++j) {
      EXPECT_EQ(b.x.data()[j * 4], float(b.ids[j]));
      EXPECT_EQ(b.labels[j], b.ids[j] % 10);
    }
    ids.insert(ids.end(), b.ids.begin(), b.ids.end());
  }
  return ids;
}

// A directory under /tmp, removed with everything in it at the end of the test.
struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/gg_data_XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string file(const std::string& name) const { return path + "/" + name; }
};

inline void put_be32(Bytes& b, std::uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) b.push_back(std::uint8_t(v >> s));
}

// Writes b to path (gzip-compressed if asked); returns path.
inline std::string write(const std::string& path, const Bytes& b, bool gzip = false) {
  if (gzip) {
    gzFile f = gzopen(path.c_str(), "wb");
    gzwrite(f, b.data(), unsigned(b.size()));
    gzclose(f);
  } else {
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
  }
  return path;
}

}  // namespace gg::test
