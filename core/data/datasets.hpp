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
// Unknown keys are errors (cfg.finish()), reported before any file is read.
#include <string>
#include <vector>

#include "core/config/json_reader.hpp"
#include "core/data/dataset.hpp"
#include "core/data/normalize.hpp"

namespace gg {

struct DatasetPair {
  Dataset train, test;
  Normalization norm;  // what was applied to both (empty if "normalize" is false)
};

DatasetPair load_dataset(JsonReader& cfg);

// The names load_dataset accepts, in table order.
std::vector<std::string> dataset_names();

inline constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

}  // namespace gg
