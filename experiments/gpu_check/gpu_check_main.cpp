// gg_gpu_check: the GPU backend's verification in one run (scripts/gpu_check.sh drives it on a GPU node).
//
//   gg_gpu_check --out DIR [--quick] [--device N] [--parts runtime,layers,training,nccl,throughput,profile]
//   gg_gpu_check --versions      the CUDA driver/runtime, cuDNN, cuBLAS and NCCL versions loaded (JSON, exit 0;
//                                works without a GPU: the preflight of scripts/gpu_check.sh)
//
// Writes DIR/gpu_check.json (every figure; results of parts run earlier into the same DIR are kept, so
// scripts/gpu_check.sh can run the parts as separate processes, each under its own timeout) after every
// part, DIR/<model>_<gpu>.json (per-layer profiles, named after the GPU measured: h100, h200, ...) and
// prints one line per check. Each part runs in its own try/catch: an error fails that part only.
// Exit codes: 0 all checks passed, 1 a check failed, 2 bad arguments, 77 no usable GPU (or a build
// without CUDA): the line says why, and ctest reports the test as skipped.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core/cuda/runtime.hpp"
#include "core/util/build_info.hpp"
#include "experiments/gpu_check/check_util.hpp"
#include "experiments/gpu_check/part_runner.hpp"
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
               "[--parts runtime,layers,training,nccl,throughput,profile] | --versions\n", why);
  return 2;
}

nlohmann::json versions_json() {
  const gg::cuda::LibraryVersions v = gg::cuda::library_versions();
  return {{"cuda_driver", v.driver}, {"cuda_runtime", v.runtime}, {"cudnn", v.cudnn},
          {"cudnn_cudart", v.cudnn_cudart}, {"cublas", v.cublas}, {"nccl", v.nccl}};
}

}  // namespace

int main(int argc, char** argv) {
  using namespace gg;
  CheckSetup setup;
  std::string out_dir;
  const std::vector<std::string> order{"runtime", "layers", "training", "nccl", "throughput", "profile"};
  const std::set<std::string> all_parts(order.begin(), order.end());
  std::set<std::string> parts = all_parts;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--out" && has_value) {
      out_dir = argv[++i];
    } else if (a == "--versions") {
      std::printf("%s\n", versions_json().dump().c_str());
      return 0;
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
    const std::filesystem::path json_path = std::filesystem::path(out_dir) / "gpu_check.json";
    const BuildInfo info = build_info();
    const std::string device = cuda::device_name(setup.device);
    nlohmann::json results;
    // Parts run earlier into this folder (by scripts/gpu_check.sh, one process per part) are kept.
    if (std::ifstream f(json_path); f) {
      try {
        results = nlohmann::json::parse(f);
        if (results.value("device", "") != device || results.value("revision", "") != info.git_revision)
          results = nlohmann::json::object();
      } catch (const std::exception&) {
        results = nlohmann::json::object();
      }
    }
    const char* tf32_override = std::getenv("NVIDIA_TF32_OVERRIDE");
    results.update({{"device", device}, {"revision", info.git_revision}, {"backends", info.backends},
                    {"tolerance", setup.tolerance}, {"tolerance_tf32", setup.tolerance_tf32}, {"quick", setup.quick},
                    {"profile_suffix", profile_suffix(device)}, {"versions", versions_json()},
                    {"NVIDIA_TF32_OVERRIDE", tf32_override ? nlohmann::json(tf32_override) : nlohmann::json(nullptr)}});
    std::printf("gg_gpu_check on %s (revision %s)\n", device.c_str(), info.git_revision.c_str());
    PartRunner run(results, [&](const nlohmann::json& j) { write_json(json_path, j); });
    bool ok = true;
    auto part = [&](const std::string& key, const std::function<nlohmann::json(bool&)>& fn) {
      ok = run.run(key, fn) && ok;
    };
    if (parts.count("runtime")) {
      std::printf("Runtime (queries, ordering):\n");
      part("runtime", [&](bool& k) { return check_runtime(setup, k); });
    }
    if (parts.count("layers")) {
      std::printf("GPU vs CPU, relative difference (FP32, tolerance %.0e):\n", setup.tolerance);
      part("layers", [&](bool& k) { return check_layers(setup, false, k); });
      std::printf("GPU (TF32) vs CPU, relative difference (tolerance %.0e):\n", setup.tolerance_tf32);
      part("layers_tf32", [&](bool& k) { return check_layers(setup, true, k); });
      part("loss_and_sgd", [&](bool& k) { return check_loss_and_sgd(setup, k); });
    }
    if (parts.count("training")) {
      std::printf("Training agreement:\n");
      part("training", [&](bool& k) { return check_training(setup, k); });
    }
    if (parts.count("nccl")) {
      std::printf("NCCL communicator:\n");
      part("nccl", [&](bool& k) { return check_nccl(setup, k); });
    }
    if (parts.count("throughput")) {
      std::printf("Throughput (forward + loss + backward + SGD):\n");
      part("throughput", [&](bool& k) {
        nlohmann::json t = nlohmann::json::array();
        const std::vector<int> batches = setup.quick ? std::vector<int>{32} : std::vector<int>{32, 64, 128};
        for (const char* model : {"resnet50", "googlenet"})
          for (int batch : batches)
            for (bool tf32 : {false, true}) {
              const std::string name = std::string(model) + " batch " + std::to_string(batch) + (tf32 ? " tf32" : " fp32");
              t.push_back(run_case(name, k, [&] { return measure_throughput(setup, model, batch, tf32, k); }));
            }
        return t;
      });
    }
    if (parts.count("profile")) {
      part("profile", [&](bool& k) {
        nlohmann::json files = nlohmann::json::array();
        for (const char* model : {"resnet50", "googlenet"}) {
          const std::string file = std::string(model) + "_" + profile_suffix(device) + ".json";
          files.push_back(run_case(model, k, [&] {
            write_json(std::filesystem::path(out_dir) / file, measure_profile(setup, model, 32, false));
            return nlohmann::json{{"model", model}, {"file", file}, {"pass", true}};
          }));
        }
        return files;
      });
    }
    std::printf("gg_gpu_check: %s\n", ok ? "all checks passed" : "SOME CHECKS FAILED");
    return ok ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "gg_gpu_check: error: %s\n", e.what());
    return 1;
  }
}
