// Speed of the CPU engine, in one run:
//   BM_Layer/<shape>  forward+backward of one conv or dense layer at batch 64, in GFLOP/s
//   BM_Sgemm/<shape>  the same three GEMMs (forward, weight grad, input grad) on raw cblas_sgemm
//   BM_LenetStep/<threads>  a whole lenet training step (forward, loss, backward, SGD) in images/s
// The custom reporter ends with a table of layer / sgemm ratios. The context names the BLAS kernels
// (core/blas/blas_kernels.hpp); OPENBLAS_CORETYPE=Prescott shows the slow path.
//
//   build/release/experiments/bench/bench_layers [--benchmark_min_time=0.5]
#include <benchmark/benchmark.h>
#include <cblas.h>
#include <omp.h>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/blas/blas_kernels.hpp"
#include "core/config/json_reader.hpp"
#include "core/layers/registry.hpp"
#include "core/layers/softmax_xent.hpp"
#include "core/model/model_builder.hpp"
#include "core/optim/sgd.hpp"

namespace {

using namespace gg;
using json = nlohmann::json;

struct LayerCase {
  const char* name;
  Shape in;          // one sample
  json spec;         // layer options
  bool input_grad;   // false for the first layer (nobody needs dL/dx of the data)
};

const std::vector<LayerCase>& cases() {
  static const std::vector<LayerCase> c = {
      {"lenet_conv1", {1, 28, 28, 1}, {{"type", "conv2d"}, {"out", 20}, {"kernel", 5}}, false},
      {"lenet_conv2", {1, 12, 12, 20}, {{"type", "conv2d"}, {"out", 50}, {"kernel", 5}}, true},
      {"lenet_ip1", {1, 4, 4, 50}, {{"type", "dense"}, {"out", 500}}, true},
      {"lenet_ip2", {1, 1, 1, 500}, {{"type", "dense"}, {"out", 10}}, true},
      {"cifar_conv1", {1, 32, 32, 3}, {{"type", "conv2d"}, {"out", 32}, {"kernel", 5}, {"pad", 2}}, false},
      {"cifar_conv2", {1, 16, 16, 32}, {{"type", "conv2d"}, {"out", 32}, {"kernel", 5}, {"pad", 2}}, true},
      {"cifar_conv3", {1, 8, 8, 32}, {{"type", "conv2d"}, {"out", 64}, {"kernel", 5}, {"pad", 2}}, true},
      {"cifar_ip1", {1, 4, 4, 64}, {{"type", "dense"}, {"out", 64}}, true},
  };
  return c;
}

constexpr int kBatch = 64;

void fill(std::span<float> v, std::uint64_t seed) {
  Rng r(seed);
  for (auto& x : v) x = r.uniform() - 0.5f;
}

void set_threads(int t) { set_compute_threads(t); }

// GEMM shapes of a layer at batch kBatch: rows M (output pixels), N (output channels), K.
struct Gemm {
  int m, n, k;
};
Gemm gemm_of(const LayerCase& c, const Shape& out) {
  const int m = kBatch * out.h * out.w, n = out.c;
  const int k = c.spec["type"] == "dense" ? int(c.in.per_sample())
                                           : c.spec["kernel"].get<int>() * c.spec["kernel"].get<int>() * c.in.c;
  return {m, n, k};
}

// The case's layer, set up for batch kBatch; *out receives its output shape.
std::unique_ptr<Layer> layer_of(const LayerCase& c, Shape* out) {
  json spec = c.spec;
  const std::string type = spec["type"];
  spec.erase("type");
  JsonReader opts(spec, c.name);
  auto layer = make_layer(type, opts);
  const Shape in_shape = c.in.with_batch(kBatch);
  *out = layer->setup(std::span<const Shape>(&in_shape, 1));
  return layer;
}

void BM_Layer(benchmark::State& state, const LayerCase* c) {
  set_threads(1);
  const Shape in_shape = c->in.with_batch(kBatch);
  Shape out_shape;
  auto layer = layer_of(*c, &out_shape);
  std::vector<std::vector<float>> w, g;
  std::vector<std::span<float>> ws, gs;
  for (const auto& p : layer->params()) {
    w.emplace_back(p.count);
    g.emplace_back(p.count);
  }
  for (std::size_t i = 0; i < w.size(); ++i) {
    fill(w[i], i + 1);
    ws.emplace_back(w[i]);
    gs.emplace_back(g[i]);
  }
  layer->bind(ws, gs);
  Tensor x(in_shape), y(out_shape), dy(out_shape), dx(in_shape);
  fill(x.span(), 7);
  fill(dy.span(), 8);
  const Tensor* ins[1] = {&x};
  Tensor* dins[1] = {c->input_grad ? &dx : nullptr};
  const RunContext ctx{Phase::Train, 1};
  layer->forward(ins, y, ctx);  // warm-up: first-touch of the scratch buffers is not steady state
  layer->backward(ins, y, dy, dins, ctx);
  for (auto _ : state) {
    layer->forward(ins, y, ctx);
    layer->backward(ins, y, dy, dins, ctx);
    benchmark::DoNotOptimize(y.data());
  }
  const Gemm gm = gemm_of(*c, out_shape);
  const double flops = 2.0 * gm.m * gm.n * gm.k * (c->input_grad ? 3 : 2);
  state.counters["GFLOPs"] = benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

void BM_Sgemm(benchmark::State& state, const LayerCase* c) {
  set_threads(1);
  Shape out_shape;
  layer_of(*c, &out_shape);
  const Gemm gm = gemm_of(*c, out_shape);
  std::vector<float> a(std::size_t(gm.m) * gm.k), b(std::size_t(gm.n) * gm.k), y(std::size_t(gm.m) * gm.n),
      db(b.size()), da(a.size());
  fill(a, 1);
  fill(b, 2);
  fill(y, 3);
  for (auto _ : state) {
    // forward y = a * b^T; weight grad db = y^T * a; input grad da = y * b
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, gm.m, gm.n, gm.k, 1.f, a.data(), gm.k, b.data(), gm.k, 0.f,
                y.data(), gm.n);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, gm.n, gm.k, gm.m, 1.f, y.data(), gm.n, a.data(), gm.k, 0.f,
                db.data(), gm.k);
    if (c->input_grad)
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, gm.m, gm.k, gm.n, 1.f, y.data(), gm.n, b.data(), gm.k,
                  0.f, da.data(), gm.k);
    benchmark::DoNotOptimize(da.data());
  }
  const double flops = 2.0 * gm.m * gm.n * gm.k * (c->input_grad ? 3 : 2);
  state.counters["GFLOPs"] = benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

void BM_LenetStep(benchmark::State& state) {
  const int threads = int(state.range(0));
  set_threads(threads);
  auto model = build_model(json("lenet"), "model", Shape{1, 28, 28, 1}, 10, kBatch);
  model->init(1);
  Sgd sgd(SgdOptions{}, model->ranges(), model->num_params());
  Tensor x(Shape{kBatch, 28, 28, 1}), dlogits;
  fill(x.span(), 3);
  std::vector<std::int32_t> labels(kBatch);
  for (int i = 0; i < kBatch; ++i) labels[std::size_t(i)] = i % 10;
  std::uint64_t step = 0;
  for (auto _ : state) {
    const RunContext ctx{Phase::Train, step++};
    const Tensor& logits = model->forward(x, ctx);
    dlogits.resize(logits.shape());
    benchmark::DoNotOptimize(softmax_xent(logits, labels, &dlogits));
    model->backward(dlogits, ctx);
    sgd.step(model->params(), model->grads(), 0.01);
  }
  state.counters["images/s"] = benchmark::Counter(double(kBatch), benchmark::Counter::kIsIterationInvariantRate);
  set_threads(1);
}

// Console output as usual, plus a closing table: each layer's GFLOP/s over sgemm's at its shapes.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const auto& r : runs) {
      // Single runs, or the median when --benchmark_repetitions asks for aggregates.
      if (r.error_occurred) continue;
      if (r.run_type == Run::RT_Aggregate && r.aggregate_name != "median") continue;
      auto it = r.counters.find("GFLOPs");
      std::string name = r.benchmark_name();
      if (const auto cut = name.find("/real_time"); cut != std::string::npos) name.erase(cut);
      if (it != r.counters.end()) gflops_[name] = it->second.value;
    }
  }
  void Finalize() override {
    ConsoleReporter::Finalize();
    std::printf("\n%-14s %12s %12s %8s\n", "layer", "layer GF/s", "sgemm GF/s", "ratio");
    for (const auto& c : cases()) {
      const double l = gflops_["BM_Layer/" + std::string(c.name)], s = gflops_["BM_Sgemm/" + std::string(c.name)];
      if (l > 0 && s > 0) std::printf("%-14s %12.2f %12.2f %7.0f%%\n", c.name, l, s, 100 * l / s);
    }
  }

 private:
  std::map<std::string, double> gflops_;
};

}  // namespace

int main(int argc, char** argv) {
  const BlasKernels blas = use_best_blas_kernels();  // before any BLAS call (core/blas/blas_kernels.hpp)
  benchmark::AddCustomContext("blas", blas.str());    // in the console header and in --benchmark_format=json
  for (const auto& c : cases()) {
    benchmark::RegisterBenchmark(("BM_Layer/" + std::string(c.name)).c_str(), BM_Layer, &c)->Unit(benchmark::kMicrosecond)->UseRealTime();
    benchmark::RegisterBenchmark(("BM_Sgemm/" + std::string(c.name)).c_str(), BM_Sgemm, &c)->Unit(benchmark::kMicrosecond)->UseRealTime();
  }
  benchmark::RegisterBenchmark("BM_LenetStep", BM_LenetStep)->Arg(1)->Arg(2)->ArgName("threads")->Unit(benchmark::kMillisecond)->UseRealTime();
  benchmark::Initialize(&argc, argv);
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return 0;
}
