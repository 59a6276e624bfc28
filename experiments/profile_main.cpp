// gg_profile: measures a model of this engine layer by layer and writes a proxy profile (the format of
// experiments/profiles/*.json), so that a proxy model of it can be simulated at scale under SMPI.
//
//   gg_profile --model lenet --input 28,28,1 --classes 10 --batch 64 [--reps 10] [--threads 1]
//              [--out experiments/profiles/lenet_cpu.json]
//
// Forward and backward time per layer come from timestamps taken in the model's between-layer hook
// (forward: after each layer; backward: after each layer's backward), median over --reps passes after
// two warm-up passes, on random inputs. Single process, no MPI calls.
#include <omp.h>

#include <cblas.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/blas/blas_kernels.hpp"
#include "core/layers/softmax_xent.hpp"
#include "core/model/model_builder.hpp"
#include "core/util/error.hpp"
#include "core/util/rng.hpp"

namespace {

using namespace gg;
using json = nlohmann::json;

double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

struct Args {
  std::string model = "lenet", out;
  Shape input{1, 28, 28, 1};
  int classes = 10, batch = 64, reps = 10, threads = 1;
};

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string s = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw InputError(s + " needs a value");
      return argv[++i];
    };
    if (s == "--model") a.model = value();
    else if (s == "--out") a.out = value();
    else if (s == "--classes") a.classes = std::stoi(value());
    else if (s == "--batch") a.batch = std::stoi(value());
    else if (s == "--reps") a.reps = std::stoi(value());
    else if (s == "--threads") a.threads = std::stoi(value());
    else if (s == "--input") {
      int h = 0, w = 0, c = 0;
      if (std::sscanf(value().c_str(), "%d,%d,%d", &h, &w, &c) != 3) throw InputError("--input expects H,W,C");
      a.input = {1, h, w, c};
    } else throw InputError("unknown argument '" + s + "'");
  }
  if (a.batch < 1 || a.reps < 1 || a.classes < 2 || a.threads < 1) throw InputError("batch, reps, threads >= 1; classes >= 2");
  return a;
}

json profile(const Args& a) {
  // A name is a named model; anything else is a JSON model file.
  json spec = a.model;
  if (std::ifstream f(a.model); f) spec = json::parse(f);
  auto model = build_model(spec, "model", a.input, a.classes, a.batch);
  model->init(1);
  const auto layers = model->layers();
  const std::size_t L = layers.size();

  Tensor x(a.input.with_batch(a.batch)), dlogits;
  Rng rng(7);
  for (float& v : x.span()) v = rng.normal();
  std::vector<std::int32_t> labels(std::size_t(a.batch));
  for (auto& l : labels) l = std::int32_t(rng.uniform() * float(a.classes)) % a.classes;

  std::vector<std::vector<double>> fwd(L), bwd(L);
  std::vector<double> stamps;
  stamps.reserve(L + 1);
  const PollHook mark = [&] { stamps.push_back(now()); };
  for (int rep = -2; rep < a.reps; ++rep) {  // two warm-up passes
    const RunContext ctx{Phase::Train, std::uint64_t(rep + 3)};
    stamps.assign(1, now());
    const Tensor& logits = model->forward(x, ctx, mark);
    std::vector<double> f = stamps;
    softmax_xent(logits, labels, &dlogits);
    stamps.assign(1, now());
    model->backward(dlogits, ctx, {}, mark);
    if (rep < 0) continue;
    for (std::size_t i = 0; i < L; ++i) {
      fwd[i].push_back(f[i + 1] - f[i]);
      bwd[L - 1 - i].push_back(stamps[i + 1] - stamps[i]);  // backward runs last layer first
    }
  }
  char host[256] = "unknown";
  gethostname(host, sizeof host - 1);
  json out = {{"name", a.model + "-measured"},
              {"model", a.model},
              {"device", std::string("CPU (") + host + "), " + std::to_string(a.threads) + " thread(s), " + blas_kernels().str()},
              {"batch", a.batch},
              {"input", {a.input.h, a.input.w, a.input.c}},
              {"classes", a.classes},
              {"sources", {"measured with gg_profile (experiments/profile_main.cpp) on this engine"}},
              {"derivation", "per-layer forward/backward seconds: median of " + std::to_string(a.reps) +
                                 " passes at the stated batch, timed between layers"}};
  double total_f = 0, total_b = 0;
  json arr = json::array();
  for (std::size_t i = 0; i < L; ++i) {
    const double tf = median(fwd[i]), tb = median(bwd[i]);
    total_f += tf;
    total_b += tb;
    arr.push_back({{"name", layers[i].name}, {"kind", layers[i].kind}, {"params", layers[i].params},
                   {"forward_s", tf}, {"backward_s", tb}});
  }
  out["total_forward_s"] = total_f;
  out["total_backward_s"] = total_b;
  out["layers"] = arr;
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  use_best_blas_kernels();  // before any BLAS call or thread (core/blas/blas_kernels.hpp)
  try {
    const Args a = parse(argc, argv);
    set_compute_threads(a.threads);
    const json p = profile(a);
    const std::string text = p.dump(1);
    if (a.out.empty()) {
      std::puts(text.c_str());
    } else {
      std::ofstream(a.out) << text << "\n";
      std::fprintf(stderr, "gg_profile: %zu layers, %.4f s forward + %.4f s backward at batch %d -> %s\n",
                   p["layers"].size(), p["total_forward_s"].get<double>(), p["total_backward_s"].get<double>(),
                   a.batch, a.out.c_str());
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "gg_profile: error: %s\n", e.what());
    return 2;
  }
}
