#include "core/data/datasets.hpp"

#include <algorithm>
#include <filesystem>
#include <optional>
#include <stdexcept>

#include "core/data/cifar_reader.hpp"
#include "core/data/idx_reader.hpp"
#include "core/data/label_partition.hpp"
#include "core/data/synthetic.hpp"
#include "core/util/error.hpp"
#include "core/util/message.hpp"

namespace gg {

// What a kind's loader is asked for.
struct LoadRequest {
  std::string name;
  std::int64_t train_limit, test_limit;
  const DataKeep& keep;
  bool normalize;  // fit DatasetPair::norm on the whole (limited) training split; load() applies it
};

// A dataset kind, planned from its config keys: run only once the whole config has been checked.
struct DataKind {
  std::function<DataInfo()> info;
  std::function<DatasetPair(const LoadRequest&)> load;
};

namespace {

namespace fs = std::filesystem;

using Planner = DataKind (*)(JsonReader& cfg, const std::string& name);

// For kinds whose readers load a whole split: the limits, the normalization fit, then the selection.
void keep_first(Dataset& ds, std::int64_t k) {
  if (k >= ds.size()) return;
  ds.labels.resize(std::size_t(k));
  ds.images.resize(std::size_t(k) * ds.sample.per_sample());
  ds.labels.shrink_to_fit();
  ds.images.shrink_to_fit();
}

void keep(Dataset& ds, const KeepIds& ids) {
  if (ids) ds.keep_only(ids(ds.samples(), ds.labels));
}

DatasetPair select(DatasetPair d, const LoadRequest& r) {
  keep_first(d.train, r.train_limit);
  keep_first(d.test, r.test_limit);
  if (r.normalize) d.norm = fit_normalization(d.train);
  keep(d.train, r.keep.train);
  keep(d.test, r.keep.test);
  return d;
}

// IDX file `stem` in dir: the gzipped file if present, else the plain one.
std::string idx_path(const std::string& name, const std::string& dir, const std::string& stem) {
  const fs::path gz = fs::path(dir) / (stem + ".gz"), plain = fs::path(dir) / stem;
  std::error_code ec;
  if (fs::exists(gz, ec)) return gz.string();
  if (fs::exists(plain, ec)) return plain.string();
  std::string hint = dir == kFashionMnistDir ? " (install the dataset-fashion-mnist package or set \"dir\")" : "";
  throw InputError(name + ": neither " + shown(gz.string()) + " nor " + shown(plain.string()) + " exists" + hint);
}

// IDX decodes while streaming: limits, selection and the normalization fit happen in the reader, so
// a rank never holds more than it keeps.
DataKind plan_idx(JsonReader& cfg, const std::string& name, std::optional<std::string> default_dir) {
  const std::string dir = cfg.get_string("dir", default_dir);
  DataKind k;
  k.info = [dir, name] {
    const IdxImagesHeader h = read_idx_images_header(idx_path(name, dir, "train-images-idx3-ubyte"), name);
    return DataInfo{Shape{1, h.rows, h.cols, 1}, 10};  // labels >= 10 are rejected when loading
  };
  k.load = [dir, name](const LoadRequest& r) {
    auto load = [&](const char* images, const char* labels, IdxOptions opt) {
      const std::string images_path = idx_path(name, dir, images);  // images first: errors in file order
      return load_idx(images_path, idx_path(name, dir, labels), name, 10, opt);
    };
    ChannelMoments moments(1);
    DatasetPair d;
    d.train = load("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                   {r.train_limit, r.keep.train, r.normalize ? &moments : nullptr});
    d.test = load("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", {r.test_limit, r.keep.test, nullptr});
    if (r.normalize) d.norm = moments.result(r.name + "/train");
    return d;
  };
  return k;
}

DataKind plan_cifar(JsonReader& cfg, const std::string& name) {
  const std::string dir = cfg.get_string("dir");
  DataKind k;
  k.info = [] { return DataInfo{Shape{1, kCifarSide, kCifarSide, 3}, 10}; };
  k.load = [dir, name](const LoadRequest& r) {
    fs::path base(dir);
    std::error_code ec;
    if (!fs::exists(base / "data_batch_1.bin", ec) && fs::exists(base / "cifar-10-batches-bin", ec))
      base /= "cifar-10-batches-bin";  // the folder as the CIFAR-10 tarball unpacks
    std::vector<std::string> train;
    for (int i = 1; i <= 5; ++i) train.push_back((base / ("data_batch_" + std::to_string(i) + ".bin")).string());
    DatasetPair d{load_cifar10(train, name), load_cifar10({(base / "test_batch.bin").string()}, name), {}};
    d.train.name = r.name + "/train";  // as normalization errors name it
    return select(std::move(d), r);
  };
  return k;
}

DataKind plan_synthetic(JsonReader& cfg, const std::string& name) {
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
  DataKind k;
  k.info = [spec] { return DataInfo{Shape{1, spec.h, spec.w, spec.c}, spec.classes}; };
  k.load = [spec, train, test, name](const LoadRequest& r) {
    DatasetPair d{make_synthetic(spec, train, 0, name), make_synthetic(spec, test, 1, name), {}};
    d.train.name = r.name + "/train";
    return select(std::move(d), r);
  };
  return k;
}

// One line per dataset kind.
struct KindEntry {
  const char* name;
  Planner plan;
};
const KindEntry kKinds[] = {
    {"fashion-mnist", [](JsonReader& c, const std::string& n) { return plan_idx(c, n, kFashionMnistDir); }},
    {"mnist", [](JsonReader& c, const std::string& n) { return plan_idx(c, n, std::nullopt); }},
    {"cifar10", plan_cifar},
    {"synthetic", plan_synthetic},
};

}  // namespace

std::vector<std::string> dataset_names() {
  std::vector<std::string> out;
  for (const KindEntry& k : kKinds) out.push_back(k.name);
  return out;
}

DataSource::DataSource(JsonReader& cfg) {
  name_ = cfg.get_string("name");
  const KindEntry* kind = nullptr;
  std::string known;
  for (const KindEntry& k : kKinds) {
    if (name_ == k.name) kind = &k;
    known += std::string(known.empty() ? "" : ", ") + k.name;
  }
  if (!kind)
    throw InputError("config: '" + cfg.path_of("name") + "' must be one of {" + known + "}, got \"" + shown(name_, 80) +
                     "\"");

  kind_ = std::make_shared<const DataKind>(kind->plan(cfg, name_));
  train_limit_ = cfg.get_int("train_limit", INT64_MAX, 1);
  test_limit_ = cfg.get_int("test_limit", INT64_MAX, 1);
  normalize_ = cfg.get_bool("normalize", true);
  partition_ = read_partition(cfg);
  cfg.finish();
}

PartitionSpec DataSource::read_partition(JsonReader& cfg) {
  PartitionSpec spec;
  spec.path = cfg.path();
  spec.kind = parse_partition(cfg.get_string("partition", "reshuffle"), cfg.path_of("partition"));
  // Each partition's own options: read (and recorded in the effective config) only under it.
  struct Option {
    const char* key;
    Partition kind;
  };
  for (const Option& o : {Option{"classes_per_worker", Partition::Classes}, Option{"dirichlet_alpha", Partition::Dirichlet}})
    if (cfg.has(o.key) && spec.kind != o.kind)
      throw InputError("config: '" + cfg.path_of(o.key) + "' applies only to " + cfg.path_of("partition") + " \"" +
                       partition_name(o.kind) + "\", not \"" + partition_name(spec.kind) + "\"");
  if (spec.kind == Partition::Classes)  // the range is checked below, the class count in info()
    spec.classes_per_worker = int(std::clamp<std::int64_t>(cfg.get_int("classes_per_worker", 2), -1, 1 << 30));
  if (spec.kind == Partition::Dirichlet) spec.dirichlet_alpha = cfg.get_double("dirichlet_alpha", 0.5);
  check_partition_spec(spec, 0);
  return spec;
}

DataInfo DataSource::info() const {
  DataInfo info = kind_->info();
  check_partition_spec(partition_, info.num_classes);
  return info;
}

DatasetPair DataSource::load(const DataKeep& keep) const {
  DatasetPair d = kind_->load(LoadRequest{name_, train_limit_, test_limit_, keep, normalize_});
  d.train.name = name_ + "/train";
  d.test.name = name_ + "/test";
  d.partition = partition_.kind;
  if (normalize_) {
    apply_normalization(d.train, d.norm);
    apply_normalization(d.test, d.norm);
  }
  return d;
}

DatasetPair load_dataset(JsonReader& cfg) { return DataSource(cfg).load(); }

}  // namespace gg
