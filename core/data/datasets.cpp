#include "core/data/datasets.hpp"

#include <filesystem>
#include <functional>
#include <optional>

#include "core/data/cifar_reader.hpp"
#include "core/data/idx_reader.hpp"
#include "core/data/synthetic.hpp"
#include "core/util/error.hpp"

namespace gg {

namespace {

namespace fs = std::filesystem;

// A kind reads its config keys and returns the loader to run once the whole config has been checked.
using Loader = std::function<DatasetPair()>;
using Planner = Loader (*)(JsonReader& cfg, const std::string& name);

// IDX file `stem` in dir: the gzipped file if present, else the plain one.
std::string idx_path(const std::string& name, const std::string& dir, const std::string& stem) {
  const fs::path gz = fs::path(dir) / (stem + ".gz"), plain = fs::path(dir) / stem;
  std::error_code ec;
  if (fs::exists(gz, ec)) return gz.string();
  if (fs::exists(plain, ec)) return plain.string();
  std::string hint = dir == kFashionMnistDir ? " (install the dataset-fashion-mnist package or set \"dir\")" : "";
  throw InputError(name + ": neither " + gz.string() + " nor " + plain.string() + " exists" + hint);
}

Loader plan_idx(JsonReader& cfg, const std::string& name, std::optional<std::string> default_dir) {
  const std::string dir = cfg.get_string("dir", default_dir);
  return [dir, name] {
    auto load = [&](const char* images, const char* labels) {
      const std::string images_path = idx_path(name, dir, images);  // images first: errors in file order
      return load_idx(images_path, idx_path(name, dir, labels), name);
    };
    return DatasetPair{load("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
                       load("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"), {}};
  };
}

Loader plan_cifar(JsonReader& cfg, const std::string& name) {
  const std::string dir = cfg.get_string("dir");
  return [dir, name] {
    fs::path base(dir);
    std::error_code ec;
    if (!fs::exists(base / "data_batch_1.bin", ec) && fs::exists(base / "cifar-10-batches-bin", ec))
      base /= "cifar-10-batches-bin";  // the folder as the CIFAR-10 tarball unpacks
    std::vector<std::string> train;
    for (int i = 1; i <= 5; ++i) train.push_back((base / ("data_batch_" + std::to_string(i) + ".bin")).string());
    return DatasetPair{load_cifar10(train, name), load_cifar10({(base / "test_batch.bin").string()}, name), {}};
  };
}

Loader plan_synthetic(JsonReader& cfg, const std::string& name) {
  SyntheticSpec spec;
  const auto shape = cfg.get_int_list("shape", {32, 32, 3}, 1);
  if (shape.size() != 3 || shape[0] > 4096 || shape[1] > 4096 || shape[2] > 4096)
    throw InputError("config: '" + cfg.path_of("shape") + "' must be [h, w, c] with each in [1, 4096]");
  spec.h = int(shape[0]), spec.w = int(shape[1]), spec.c = int(shape[2]);
  spec.classes = int(cfg.get_int("classes", 10, 2, 1 << 20));
  const std::int64_t train = cfg.get_int("train_size", 10000, 1, std::int64_t(1) << 31);
  const std::int64_t test = cfg.get_int("test_size", 2000, 1, std::int64_t(1) << 31);
  spec.seed = std::uint64_t(cfg.get_int("seed", 1, 0));
  spec.noise = float(cfg.get_double("noise", 1.0, 0.0, 1e6));
  return [spec, train, test, name] {
    return DatasetPair{make_synthetic(spec, train, 0, name), make_synthetic(spec, test, 1, name), {}};
  };
}

// One line per dataset kind.
struct Kind {
  const char* name;
  Planner plan;
};
const Kind kKinds[] = {
    {"fashion-mnist", [](JsonReader& c, const std::string& n) { return plan_idx(c, n, kFashionMnistDir); }},
    {"mnist", [](JsonReader& c, const std::string& n) { return plan_idx(c, n, std::nullopt); }},
    {"cifar10", plan_cifar},
    {"synthetic", plan_synthetic},
};

void keep_first(Dataset& ds, std::int64_t k) {
  if (k >= ds.size()) return;
  ds.labels.resize(std::size_t(k));
  ds.images.resize(std::size_t(k) * ds.sample.per_sample());
  ds.labels.shrink_to_fit();
  ds.images.shrink_to_fit();
}

}  // namespace

std::vector<std::string> dataset_names() {
  std::vector<std::string> out;
  for (const Kind& k : kKinds) out.push_back(k.name);
  return out;
}

DatasetPair load_dataset(JsonReader& cfg) {
  const std::string name = cfg.get_string("name");
  const Kind* kind = nullptr;
  std::string known;
  for (const Kind& k : kKinds) {
    if (name == k.name) kind = &k;
    known += std::string(known.empty() ? "" : ", ") + k.name;
  }
  if (!kind) throw InputError("config: '" + cfg.path_of("name") + "' must be one of {" + known + "}, got \"" + name + "\"");

  const Loader load = kind->plan(cfg, name);
  const std::int64_t train_limit = cfg.get_int("train_limit", INT64_MAX, 1);
  const std::int64_t test_limit = cfg.get_int("test_limit", INT64_MAX, 1);
  const bool normalize = cfg.get_bool("normalize", true);
  cfg.finish();

  DatasetPair d = load();
  d.train.name = name + "/train";
  d.test.name = name + "/test";
  keep_first(d.train, train_limit);
  keep_first(d.test, test_limit);
  if (normalize) {
    d.norm = fit_normalization(d.train);
    apply_normalization(d.train, d.norm);
    apply_normalization(d.test, d.norm);
  }
  return d;
}

}  // namespace gg
