#include "core/layers/registry.hpp"

#include "core/layers/add.hpp"
#include "core/layers/avg_pool.hpp"
#include "core/layers/batch_norm.hpp"
#include "core/layers/concat.hpp"
#include "core/layers/conv2d.hpp"
#include "core/layers/dense.hpp"
#include "core/layers/dropout.hpp"
#include "core/layers/lrn.hpp"
#include "core/layers/max_pool.hpp"
#include "core/layers/proxy.hpp"
#include "core/layers/relu.hpp"
#include "core/util/error.hpp"

namespace gg {

namespace {

constexpr std::int64_t kMaxDim = 1 << 20;

int get_dim(JsonReader& o, const char* key, std::optional<std::int64_t> fallback, std::int64_t min) {
  return int(o.get_int(key, fallback, min, kMaxDim));
}

Init weight_init(JsonReader& o) {
  return o.get_string("init", "kaiming", {"kaiming", "xavier"}) == "xavier" ? Init::Xavier : Init::Kaiming;
}

std::unique_ptr<Layer> make_conv2d(JsonReader& o) {
  Conv2DOptions c;
  c.out_channels = get_dim(o, "out", std::nullopt, 1);
  c.kernel = get_dim(o, "kernel", std::nullopt, 1);
  c.stride = get_dim(o, "stride", 1, 1);
  c.pad = get_dim(o, "pad", 0, 0);
  c.bias = o.get_bool("bias", true);
  c.init = weight_init(o);
  return std::make_unique<Conv2D>(c);
}

std::unique_ptr<Layer> make_dense(JsonReader& o) {
  DenseOptions d;
  d.out = get_dim(o, "out", std::nullopt, 1);
  d.bias = o.get_bool("bias", true);
  d.init = weight_init(o);
  return std::make_unique<Dense>(d);
}

std::unique_ptr<Layer> make_max_pool(JsonReader& o) {
  MaxPoolOptions p;
  p.kernel = get_dim(o, "kernel", std::nullopt, 1);
  p.stride = get_dim(o, "stride", p.kernel, 1);
  p.pad = get_dim(o, "pad", 0, 0);
  return std::make_unique<MaxPool>(p);
}

std::unique_ptr<Layer> make_avg_pool(JsonReader& o) {
  AvgPoolOptions p;
  p.global = o.get_bool("global", false);
  if (p.global) {
    if (o.has("kernel") || o.has("stride") || o.has("pad"))
      throw InputError("config: '" + o.path() + "': a global avg_pool takes no kernel, stride or pad");
    return std::make_unique<AvgPool>(p);
  }
  p.kernel = get_dim(o, "kernel", std::nullopt, 1);
  p.stride = get_dim(o, "stride", p.kernel, 1);
  p.pad = get_dim(o, "pad", 0, 0);
  return std::make_unique<AvgPool>(p);
}

std::unique_ptr<Layer> make_lrn(JsonReader& o) {
  LRNOptions l;
  l.size = get_dim(o, "size", 5, 1);
  if (l.size % 2 == 0) throw InputError("config: '" + o.path_of("size") + "' must be odd");
  l.alpha = float(o.get_double("alpha", 1e-4, 0.0));
  l.beta = float(o.get_double("beta", 0.75, 0.0));
  l.k = float(o.get_double("k", 1.0, 1e-12));
  return std::make_unique<LRN>(l);
}

std::unique_ptr<Layer> make_dropout(JsonReader& o) {
  DropoutOptions d;
  const double rate = o.get_double("rate", 0.5, 0.0, 1.0);
  if (rate >= 1.0) throw InputError("config: '" + o.path_of("rate") + "' must be in [0, 1), got 1");
  d.rate = float(rate);
  return std::make_unique<Dropout>(d);
}

std::unique_ptr<Layer> make_batch_norm(JsonReader& o) {
  BatchNormOptions b;
  b.momentum = float(o.get_double("momentum", 0.9, 0.0, 1.0));
  b.eps = float(o.get_double("eps", 1e-5, 1e-12));
  return std::make_unique<BatchNorm>(b);
}

struct Entry {
  const char* type;
  std::unique_ptr<Layer> (*make)(JsonReader&);
};

// The one table of layer types: adding a layer is one line here.
std::span<const Entry> table() {
  static const Entry entries[] = {
      {"conv2d", make_conv2d},
      {"dense", make_dense},
      {"relu", [](JsonReader&) -> std::unique_ptr<Layer> { return std::make_unique<ReLU>(); }},
      {"max_pool", make_max_pool},
      {"avg_pool", make_avg_pool},
      {"lrn", make_lrn},
      {"dropout", make_dropout},
      {"batch_norm", make_batch_norm},
      {"add", [](JsonReader&) -> std::unique_ptr<Layer> { return std::make_unique<Add>(); }},
      {"concat", [](JsonReader&) -> std::unique_ptr<Layer> { return std::make_unique<Concat>(); }},
      {"proxy", make_proxy},  // core/layers/proxy.cpp reads its options
  };
  return entries;
}

}  // namespace

std::unique_ptr<Layer> make_layer(const std::string& type, JsonReader& opts) {
  for (const Entry& e : table()) {
    if (type != e.type) continue;
    std::unique_ptr<Layer> layer = e.make(opts);
    opts.finish();
    return layer;
  }
  std::string known;
  for (const Entry& e : table()) known += (known.empty() ? "" : ", ") + std::string(e.type);
  throw InputError("unknown layer type '" + type + "' at " + (opts.path().empty() ? "<root>" : opts.path()) +
                   " (known: " + known + ")");
}

std::vector<std::string> layer_types() {
  std::vector<std::string> names;
  for (const Entry& e : table()) names.emplace_back(e.type);
  return names;
}

}  // namespace gg
