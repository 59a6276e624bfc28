// gg_gpu_check: the GPU backend's verification in one run (scripts/gpu_check.sh drives it on a GPU node).
//
//   gg_gpu_check --out DIR [--quick] [--device N] [--parts layers,training,nccl,throughput,profile]
//
// Writes DIR/gpu_check.json (every figure), DIR/<model>_h200.json (per-layer profiles) and prints one
// line per check. Exit codes: 0 all checks passed, 1 a check failed, 2 bad arguments, 77 no usable GPU
// (or a build without CUDA): the line says why, and ctest reports the test as skipped.
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "core/cuda/runtime.hpp"
#include "core/util/build_info.hpp"
#include "experiments/gpu_check/parts.hpp"

namespace {

void write_json(const std::filesystem::path& path, const nlohmann::json& j) {
  const auto tmp = path.string() + ".part";
  {
    std::ofstream f(tmp);
    f << j.dump(1) << "\n";
    if (!f) throw std::runtime_error("cannot write " + tmp);
  }
  std::filesystem::rename(tmp, path);  // never a half-written result
}

int usage(const char* why) {
  std::fprintf(stderr, "gg_gpu_check: %s\nusage: gg_gpu_check --out DIR [--quick] [--device N] "
               "[--parts layers,training,nccl,throughput,profile]\n", why);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace gg;
  CheckSetup setup;
  std::string out_dir;
  const std::set<std::string> all_parts{"layers", "training", "nccl", "throughput", "profile"};
  std::set<std::string> parts = all_parts;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--out" && has_value) {
      out_dir = argv[++i];
    } else if (a == "--quick") {
      setup.quick = true;
    } else if (a == "--device" && has_value) {
      setup.device = std::atoi(argv[++i]);
    } else if (a == "--parts" && has_value) {
      parts.clear();
      std::stringstream ss(argv[++i]);
      for (std::string p; std::getline(ss, p, ',');) {
        if (!all_parts.count(p))
          return usage(("unknown part '" + p + "'").c_str());
        parts.insert(p);
      }
    } else {
      return usage(("unknown or incomplete argument '" + a + "'").c_str());
    }
  }
  if (out_dir.empty()) return usage("--out DIR is required");
  if (cuda::device_count() == 0) {
    std::printf("gg_gpu_check: skipped: %s\n", cuda::unavailable().c_str());
    return 77;
  }
  try {
    std::filesystem::create_directories(out_dir);
    const BuildInfo info = build_info();
    nlohmann::json results{{"device", cuda::device_name(setup.device)}, {"revision", info.git_revision},
                           {"backends", info.backends}, {"tolerance", setup.tolerance}, {"quick", setup.quick}};
    std::printf("gg_gpu_check on %s (revision %s)\n", cuda::device_name(setup.device).c_str(), info.git_revision.c_str());
    bool ok = true;
    if (parts.count("layers")) {
      std::printf("GPU vs CPU, relative difference (tolerance %.0e):\n", setup.tolerance);
      results["layers"] = check_layers(setup, ok);
      results["loss_and_sgd"] = check_loss_and_sgd(setup, ok);
    }
    if (parts.count("training")) {
      std::printf("Training agreement:\n");
      results["training"] = check_training(setup, ok);
    }
    if (parts.count("nccl")) {
      std::printf("NCCL communicator:\n");
      results["nccl"] = check_nccl(setup, ok);
    }
    if (parts.count("throughput")) {
      std::printf("Throughput (forward + loss + backward + SGD):\n");
      nlohmann::json t = nlohmann::json::array();
      const std::vector<int> batches = setup.quick ? std::vector<int>{32} : std::vector<int>{32, 64, 128};
      for (const char* model : {"resnet50", "googlenet"})
        for (int batch : batches)
          for (bool tf32 : {false, true}) t.push_back(measure_throughput(setup, model, batch, tf32));
      results["throughput"] = t;
    }
    if (parts.count("profile")) {
      for (const char* model : {"resnet50", "googlenet"}) {
        const nlohmann::json p = measure_profile(setup, model, 32, false);
        write_json(std::filesystem::path(out_dir) / (std::string(model) + "_h200.json"), p);
      }
    }
    results["pass"] = ok;
    write_json(std::filesystem::path(out_dir) / "gpu_check.json", results);
    std::printf("gg_gpu_check: %s\n", ok ? "all checks passed" : "SOME CHECKS FAILED");
    return ok ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "gg_gpu_check: error: %s\n", e.what());
    return 1;
  }
}
