// Storing only part of a data set: the fixed partition of the sampler ("data.partition": "fixed"),
// partial datasets (keep_only, gather by sample id), streaming IDX decoding with a selection and the
// normalization fitted on the whole split, DataSource (config key, info, load with DataKeep), the test
// samples an evaluation uses, and ByteReader.
#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/config/json_reader.hpp"
#include "core/data/datasets.hpp"
#include "core/data/file_bytes.hpp"
#include "core/data/idx_reader.hpp"
#include "core/data/normalize.hpp"
#include "core/data/sampler.hpp"
#include "core/train/evaluator.hpp"
#include "core/util/error.hpp"
#include "core/util/rng.hpp"
#include "tests/unit/data_test_util.hpp"

namespace gg {
namespace {

using Ids = std::vector<std::int64_t>;
using test::Bytes;
using test::indexed;
using test::one_epoch;
using test::put_be32;
using test::TempDir;
using test::write;



Ids sorted(Ids v) {
  std::sort(v.begin(), v.end());
  return v;
}

TEST(DataPartition, FixedPartitionsAreDisjointSortedAndSeeded) {
  for (int p : {1, 2, 3, 4, 7, 8}) {
    const std::int64_t n = 103, S = n / p;
    std::set<std::int64_t> seen;
    for (int r = 0; r < p; ++r) {
      const Ids mine = ShardSampler::fixed_partition(n, p, r, 42);
      ASSERT_EQ(std::int64_t(mine.size()), S);
      EXPECT_TRUE(std::is_sorted(mine.begin(), mine.end()));
      EXPECT_EQ(mine, ShardSampler::fixed_partition(n, p, r, 42));  // a pure function of its arguments
      for (std::int64_t id : mine) {
        EXPECT_TRUE(id >= 0 && id < n);
        EXPECT_TRUE(seen.insert(id).second) << "id " << id << " in two partitions, p=" << p;
      }
    }
    EXPECT_EQ(std::int64_t(seen.size()), p * S);  // the remainder n - p*S is left out
  }
  EXPECT_NE(ShardSampler::fixed_partition(1000, 4, 1, 1), ShardSampler::fixed_partition(1000, 4, 1, 2));
  // Not a contiguous block of ids: the partition is drawn from a permutation.
  const Ids a = ShardSampler::fixed_partition(1000, 4, 0, 1);
  EXPECT_GT(a.back() - a.front(), 500);
  EXPECT_THROW(ShardSampler::fixed_partition(100, 4, 4, 1), InputError);
}

TEST(DataPartition, FixedSamplerServesItsOwnPartitionEveryEpochInNewOrders) {
  const std::int64_t n = 240;
  const Dataset full = indexed(n);
  for (int p : {1, 2, 4, 8}) {
    const std::int64_t S = n / p;
    const int b = p == 8 ? 10 : 6;
    std::vector<Ids> first_epoch(static_cast<std::size_t>(p));
    for (int r = 0; r < p; ++r) {
      ShardSampler s(n, p, r, b, 5, true, Partition::Fixed);
      const Ids part = ShardSampler::fixed_partition(n, p, r, 5);
      EXPECT_EQ(s.partition(), Partition::Fixed);
      EXPECT_EQ(s.steps_per_epoch(), S / b);
      EXPECT_EQ(sorted(Ids(s.shard().begin(), s.shard().end())), part);
      // The rank stores only its partition, and serves from it.
      Dataset mine = full;
      mine.keep_only(part);
      ASSERT_EQ(mine.partial(), p > 1);  // one worker owns everything
      ASSERT_EQ(mine.samples(), n);
      for (int e = 0; e < 4; ++e) {
        ShardSampler again(n, p, r, b, 5, true, Partition::Fixed);
        again.reset(e);
        const Ids order(again.shard().begin(), again.shard().end());
        const Ids ids = one_epoch(s, mine);
        EXPECT_EQ(ids, Ids(order.begin(), order.begin() + std::ptrdiff_t(ids.size())));  // reset() reproduces it
        if (S % b == 0) {
          EXPECT_EQ(sorted(ids), part) << "p=" << p << " epoch " << e;
        }
        if (e == 0) first_epoch[std::size_t(r)] = ids;
        if (e > 0 && S > 2) {
          EXPECT_NE(ids, first_epoch[std::size_t(r)]) << "same order in epochs 0 and " << e;
        }
        EXPECT_EQ(s.epoch(), e + 1);
      }
    }
    // Every id of the partitioned prefix served exactly once per epoch, across workers.
    Ids all;
    for (const Ids& ids : first_epoch) all.insert(all.end(), ids.begin(), ids.end());
    EXPECT_EQ(std::set<std::int64_t>(all.begin(), all.end()).size(), all.size()) << "p=" << p;
    if (S % b == 0) {
      EXPECT_EQ(std::int64_t(all.size()), p * S);
    }
  }
}

TEST(DataPartition, ReshuffleIsTheDefaultAndUnchanged) {
  ShardSampler def(103, 4, 1, 5, 42), explicit_(103, 4, 1, 5, 42, true, Partition::Reshuffle);
  EXPECT_EQ(def.partition(), Partition::Reshuffle);
  EXPECT_EQ(def.permutation(), explicit_.permutation());
  EXPECT_EQ(def.permutation().size(), 103u);
  // Fisher-Yates from Rng(seed_of(seed, epoch)), worker r takes perm[r*S, (r+1)*S): the order the
  // reference results were produced with.
  Ids perm(103);
  std::iota(perm.begin(), perm.end(), 0);
  Rng rng(seed_of(42, 0));
  for (std::int64_t i = 102; i > 0; --i) std::swap(perm[std::size_t(i)], perm[rng.below(std::uint64_t(i) + 1)]);
  EXPECT_EQ(def.permutation(), perm);
  EXPECT_EQ(Ids(def.shard().begin(), def.shard().end()), Ids(perm.begin() + 25, perm.begin() + 50));
  EXPECT_EQ(parse_partition("fixed", "data.partition"), Partition::Fixed);
  EXPECT_EQ(parse_partition("reshuffle", "data.partition"), Partition::Reshuffle);
  EXPECT_THROW(parse_partition("random", "data.partition"), InputError);
}

TEST(DataPartition, PartialDatasetGathersBySampleId) {
  Dataset ds = indexed(50);
  EXPECT_FALSE(ds.partial());
  ds.keep_only({3, 10, 11, 49});
  EXPECT_TRUE(ds.partial());
  EXPECT_EQ(ds.size(), 4);
  EXPECT_EQ(ds.samples(), 50);
  EXPECT_EQ(ds.images.size(), 16u);
  EXPECT_EQ(ds.row_of(10), 1);
  EXPECT_EQ(ds.row_of(4), -1);
  Batch b;
  const std::int64_t ids[] = {49, 3, 11};
  ds.gather(ids, 3, b);
  EXPECT_EQ(b.ids, (Ids{49, 3, 11}));
  EXPECT_EQ(b.labels, (std::vector<std::int32_t>{9, 3, 1}));
  EXPECT_EQ(b.x.data()[0], 49.0f);
  EXPECT_EQ(b.x.data()[4], 3.0f);
  const std::int64_t missing[] = {4};
  EXPECT_THROW(ds.gather(missing, 1, b), std::out_of_range);
  // A subset of a subset keeps sample ids.
  ds.keep_only({10, 49});
  EXPECT_EQ(ds.ids, (Ids{10, 49}));
  EXPECT_EQ(ds.samples(), 50);
  EXPECT_THROW(ds.keep_only({49, 10}), std::out_of_range);  // not ascending
  EXPECT_THROW(ds.keep_only({3}), std::out_of_range);       // not stored
  // Keeping everything leaves a whole dataset whole; keeping nothing is allowed (a rank that needs none).
  Dataset whole = indexed(5);
  whole.keep_only({0, 1, 2, 3, 4});
  EXPECT_FALSE(whole.partial());
  whole.keep_only({});
  EXPECT_TRUE(whole.partial());
  EXPECT_EQ(whole.size(), 0);
  EXPECT_EQ(whole.samples(), 5);
}

// --- files -------------------------------------------------------------------------------------


// n images of rows x cols with pseudo-random pixels (every value of a byte occurs).
Bytes idx_images(std::uint32_t n, std::uint32_t rows, std::uint32_t cols) {
  Bytes b;
  put_be32(b, 0x803), put_be32(b, n), put_be32(b, rows), put_be32(b, cols);
  for (std::uint32_t i = 0; i < n * rows * cols; ++i) b.push_back(std::uint8_t((i * 2654435761u) >> 13));
  return b;
}
Bytes idx_labels(std::uint32_t n) {
  Bytes b;
  put_be32(b, 0x801), put_be32(b, n);
  for (std::uint32_t i = 0; i < n; ++i) b.push_back(std::uint8_t((i * 7) % 10));
  return b;
}

TEST(DataByteReader, PiecesEqualTheWholeFilePlainAndGzip) {
  TempDir t;
  const Bytes data = idx_images(300, 28, 28);  // 235 KB: several gzip buffers
  for (bool gz : {false, true}) {
    const std::string f = write(t.file(gz ? "z" : "p"), data, gz);
    EXPECT_EQ(read_file_bytes(f, "x"), data);
    ByteReader in(f, "x");
    Bytes got, piece(777);
    for (std::size_t n; (n = in.read(piece.data(), piece.size())) > 0;) got.insert(got.end(), piece.begin(), piece.begin() + std::ptrdiff_t(n));
    EXPECT_EQ(got, data);
    EXPECT_EQ(in.delivered(), data.size());
    ByteReader half(f, "x");
    Bytes head(1000);
    ASSERT_EQ(half.read(head.data(), head.size()), 1000u);
    EXPECT_EQ(half.skip_rest(), data.size() - 1000);
  }
  // A gzip stream cut short: the error says how far it got.
  const std::string cut = write(t.file("cut"), data, true);
  std::filesystem::resize_file(cut, std::filesystem::file_size(cut) / 2);
  ByteReader in(cut, "who");
  try {
    in.skip_rest();
    ADD_FAILURE() << "no error";
  } catch (const InputError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("who: " + cut + ": truncated or corrupt gzip data"), std::string::npos) << msg;
    EXPECT_NE(msg.find("uncompressed bytes"), std::string::npos) << msg;
  }
  EXPECT_THROW(ByteReader(t.file("none"), "x"), InputError);
}

TEST(DataIdxSelection, KeptRowsAndMomentsAreBitwiseThoseOfTheFullLoad) {
  TempDir t;
  const std::string img = write(t.file("img.gz"), idx_images(200, 5, 3), true);
  const std::string lbl = write(t.file("lbl"), idx_labels(200), false);
  const Dataset full = load_idx(img, lbl, "m");
  ASSERT_FALSE(full.partial());

  // A limit alone: the first samples, a whole (not partial) data set.
  const Dataset first = load_idx(img, lbl, "m", 10, {120, {}, nullptr});
  EXPECT_FALSE(first.partial());
  EXPECT_EQ(first.size(), 120);
  EXPECT_TRUE(std::equal(first.images.begin(), first.images.end(), full.images.begin()));

  // A selection within the limit, and the moments of all 120 samples.
  const Ids keep = {0, 7, 8, 64, 119};
  ChannelMoments m(1);
  const Dataset part = load_idx(img, lbl, "m", 10, {120, [&](std::int64_t n, std::span<const std::int32_t> labels) {
                                                      EXPECT_EQ(labels.size(), 120u);
                                                      EXPECT_EQ(n, 120);
                                                      return keep;
                                                    }, &m});
  EXPECT_TRUE(part.partial());
  EXPECT_EQ(part.samples(), 120);
  EXPECT_EQ(part.ids, keep);
  EXPECT_EQ(part.num_classes, 10);
  for (std::size_t k = 0; k < keep.size(); ++k) {
    EXPECT_EQ(part.labels[k], full.labels[std::size_t(keep[k])]);
    for (int j = 0; j < 15; ++j) ASSERT_EQ(part.image(std::int64_t(k))[j], full.image(keep[k])[j]);
  }
  const Normalization streamed = m.result("m"), fitted = fit_normalization(first);
  EXPECT_EQ(streamed.mean, fitted.mean);  // exactly: same values summed in the same order
  EXPECT_EQ(streamed.stddev, fitted.stddev);

  // The rest of the file is still checked whatever is kept.
  Bytes extra = idx_images(200, 5, 3);
  extra.push_back(1);
  const std::string bad = write(t.file("extra"), extra, false);
  EXPECT_THROW(load_idx(bad, lbl, "m", 10, {3, [](std::int64_t, std::span<const std::int32_t>) { return Ids{1}; }, nullptr}), InputError);
  // A selection out of range is a caller bug.
  EXPECT_THROW(load_idx(img, lbl, "m", 10, {3, [](std::int64_t, std::span<const std::int32_t>) { return Ids{5}; }, nullptr}), std::out_of_range);
}

DataSource source(const std::string& text, nlohmann::json& holder) {
  holder = nlohmann::json::parse(text);
  JsonReader r(holder, "data");
  return DataSource(r);
}

TEST(DataSourceKeep, PartitionKeyInfoAndSelectedLoadsMatchTheFullLoad) {
  TempDir t;
  write(t.file("train-images-idx3-ubyte.gz"), idx_images(64, 6, 4), true);
  write(t.file("train-labels-idx1-ubyte"), idx_labels(64), false);
  write(t.file("t10k-images-idx3-ubyte"), idx_images(20, 6, 4), false);
  write(t.file("t10k-labels-idx1-ubyte.gz"), idx_labels(20), true);
  nlohmann::json j;
  const std::string dir = R"("dir": ")" + t.path + R"(")";
  const DataSource whole = source(R"({"name": "mnist", )" + dir + "}", j);
  EXPECT_EQ(whole.partition(), Partition::Reshuffle);
  const DataInfo info = whole.info();
  EXPECT_EQ(info.sample, (Shape{1, 6, 4, 1}));
  EXPECT_EQ(info.num_classes, 10);
  const DatasetPair all = whole.load();
  EXPECT_EQ(all.train.sample, info.sample);
  EXPECT_EQ(all.train.num_classes, info.num_classes);

  nlohmann::json j2;
  const DataSource fixed = source(R"({"name": "mnist", "partition": "fixed", "train_limit": 60, )" + dir + "}", j2);
  EXPECT_EQ(fixed.partition(), Partition::Fixed);
  DataKeep keep;
  keep.train = [](std::int64_t n, std::span<const std::int32_t>) { return ShardSampler::fixed_partition(n, 4, 2, 9); };
  keep.test = [](std::int64_t n, std::span<const std::int32_t>) { return Evaluator::samples_used(n, 3, 4, false); };
  const DatasetPair part = fixed.load(keep);
  EXPECT_EQ(part.partition, Partition::Fixed);
  EXPECT_EQ(part.train.name, "mnist/train");
  EXPECT_EQ(part.train.samples(), 60);
  EXPECT_EQ(part.train.ids, ShardSampler::fixed_partition(60, 4, 2, 9));
  EXPECT_EQ(part.test.samples(), 20);
  EXPECT_EQ(part.test.ids, (Ids{15, 16, 17, 18, 19}));

  // Same normalization and same normalized values as a full load with the same limit.
  nlohmann::json j3;
  const DatasetPair limited = source(R"({"name": "mnist", "train_limit": 60, )" + dir + "}", j3).load();
  EXPECT_EQ(part.norm.mean, limited.norm.mean);
  EXPECT_EQ(part.norm.stddev, limited.norm.stddev);
  for (std::int64_t r = 0; r < part.train.size(); ++r)
    for (int k = 0; k < 24; ++k) ASSERT_EQ(part.train.image(r)[k], limited.train.image(part.train.ids[std::size_t(r)])[k]);
  for (std::int64_t r = 0; r < part.test.size(); ++r)
    for (int k = 0; k < 24; ++k) ASSERT_EQ(part.test.image(r)[k], limited.test.image(part.test.ids[std::size_t(r)])[k]);

  // The same through the kinds that load whole files (synthetic here).
  nlohmann::json j4, j5;
  const std::string syn = R"("name": "synthetic", "shape": [4, 4, 2], "train_size": 40, "test_size": 10)";
  const DatasetPair sfull = source("{" + syn + "}", j4).load();
  const DatasetPair spart = source("{" + syn + R"(, "partition": "fixed"})", j5).load(keep);
  EXPECT_EQ(spart.norm.mean, sfull.norm.mean);
  EXPECT_EQ(spart.train.ids, ShardSampler::fixed_partition(40, 4, 2, 9));
  for (std::int64_t r = 0; r < spart.train.size(); ++r)
    for (int k = 0; k < 32; ++k) ASSERT_EQ(spart.train.image(r)[k], sfull.train.image(spart.train.ids[std::size_t(r)])[k]);

  nlohmann::json j6;
  try {
    source(R"({"name": "synthetic", "partition": "random"})", j6);
    ADD_FAILURE() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("data.partition"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("reshuffle, fixed"), std::string::npos) << e.what();
  }
  nlohmann::json j7;
  EXPECT_THROW(source(R"({"name": "synthetic", "partition": 1})", j7), InputError);
}

TEST(EvaluatorSamples, Worker0AndReplicasUseAllOthersTheirSlice) {
  const std::int64_t n = 103;
  for (int p : {1, 2, 3, 8}) {
    Ids covered;
    for (int me = 0; me < p; ++me) {
      const Ids used = Evaluator::samples_used(n, me, p, false);
      EXPECT_TRUE(std::is_sorted(used.begin(), used.end()));
      if (me == 0) {
        EXPECT_EQ(std::int64_t(used.size()), n);
        covered.insert(covered.end(), used.begin(), used.begin() + std::ptrdiff_t(n / p));
      } else {
        EXPECT_EQ(used.front(), n * me / p);
        EXPECT_EQ(used.back(), n * (me + 1) / p - 1);
        covered.insert(covered.end(), used.begin(), used.end());
      }
      EXPECT_EQ(std::int64_t(Evaluator::samples_used(n, me, p, true).size()), n);
    }
    Ids expect(static_cast<std::size_t>(n));
    std::iota(expect.begin(), expect.end(), 0);
    EXPECT_EQ(covered, expect) << "the averaged model's slices tile the test set, p=" << p;
  }
}

}  // namespace
}  // namespace gg
