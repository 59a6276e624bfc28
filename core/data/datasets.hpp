#pragma once
// The one entry point from a config to ready-to-train data. The config object:
//   "name":        "fashion-mnist" | "mnist" | "cifar10" | "synthetic"          (required)
//   "dir":         folder of the files (fashion-mnist defaults to /usr/share/datasets/fashion-mnist;
//                  mnist and cifar10 require it). IDX files may be gzipped (*.gz) or plain; CIFAR-10
//                  wants data_batch_{1..5}.bin and test_batch.bin (in dir or dir/cifar-10-batches-bin)
//   "shape", "classes", "train_size", "test_size", "seed", "noise":   synthetic only
//                  (defaults [32,32,3], 10, 10000, 2000, 1, 1.0)
//   "train_limit", "test_limit":   keep only the first K samples (quick tests)
//   "normalize":   per-channel standardization with the train statistics (default true)
//   "partition":   "reshuffle" (default) | "fixed" | "classes" | "dirichlet": how the training set is
//                  split among workers, see core/data/sampler.hpp and label_partition.hpp. With all
//                  but "reshuffle" each rank stores only its own partition.
//   "classes_per_worker":  "classes" only: labels per worker, in [1, classes] (default 2)
//   "dirichlet_alpha":     "dirichlet" only: concentration, in (0, 1e6] (default 0.5)
//                  (either key under another partition is an error)
// Unknown keys are errors (cfg.finish()), reported before any file is read.
//
// What a rank stores: load() keeps of each split only the samples a DataKeep names (the trainer's
// main asks for its fixed partition, and for the test samples its evaluations use); the rest is decoded
// and checked but dropped at once (IDX) or right after loading (CIFAR-10, synthetic). Normalization
// statistics always come from the whole training split, so every rank applies the same.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/config/json_reader.hpp"
#include "core/data/dataset.hpp"
#include "core/data/normalize.hpp"
#include "core/data/label_partition.hpp"
#include "core/data/sampler.hpp"

namespace gg {

struct DatasetPair {
  Dataset train, test;
  Normalization norm;  // what was applied to both (empty if "normalize" is false)
  Partition partition = Partition::Reshuffle;  // "partition": how the trainer splits train
};

// What load() stores of each split; an empty function keeps every sample.
struct DataKeep {
  KeepIds train, test;
};

// What a model needs to know before any sample is decoded.
struct DataInfo {
  Shape sample;  // {1, h, w, c}
  int num_classes = 0;
};

struct DataKind;

// A validated "data" config block.
class DataSource {
 public:
  // Reads every key (unknown keys are errors); opens no file.
  explicit DataSource(JsonReader& cfg);
  const std::string& name() const { return name_; }
  Partition partition() const { return partition_.kind; }
  const PartitionSpec& partition_spec() const { return partition_; }
  // Sample shape and class count, from file headers at most (IDX: the training images header).
  // Throws InputError if the partition asks for more classes per worker than there are.
  DataInfo info() const;
  // Both splits (after the limits), storing only what `keep` names. Throws InputError for bad files.
  DatasetPair load(const DataKeep& keep = {}) const;

 private:
  static PartitionSpec read_partition(JsonReader& cfg);

  std::string name_;
  PartitionSpec partition_;
  std::int64_t train_limit_ = 0, test_limit_ = 0;
  bool normalize_ = true;
  std::shared_ptr<const DataKind> kind_;  // the reader of this dataset kind (datasets.cpp)
};

// DataSource(cfg).load(): every sample of both splits.
DatasetPair load_dataset(JsonReader& cfg);

// The names load_dataset accepts, in table order.
std::vector<std::string> dataset_names();

inline constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

}  // namespace gg
