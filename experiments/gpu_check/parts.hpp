#pragma once
// The parts of gg_gpu_check (experiments/gpu_check/gpu_check_main.cpp); each returns its results as
// JSON and clears `ok` when a check fails.
#include <string>

#include <nlohmann/json.hpp>

namespace gg {

struct CheckSetup {
  int device = 0;
  double tolerance = 1e-4;       // relative, FP32 with FMA-only math on both sides
  double tolerance_tf32 = 1e-2;  // relative, GPU in TF32 (10-bit mantissa, ~1e-3 expected) vs CPU FP32
  bool quick = false;       // fewer steps (a smoke run)
};

// runtime_check.cpp: event/stream queries that answer "not ready" leave no error behind (finding F1),
// a kernel launched after them reports success.
nlohmann::json check_runtime(const CheckSetup& setup, bool& ok);
// layer_agreement.cpp; tf32: the GPU runs with TF32 allowed, checked at setup.tolerance_tf32.
nlohmann::json check_layers(const CheckSetup& setup, bool tf32, bool& ok);
nlohmann::json check_loss_and_sgd(const CheckSetup& setup, bool& ok);
// train_agreement.cpp: lenet on synthetic MNIST-shaped data, the same steps on the CPU and the GPU.
nlohmann::json check_training(const CheckSetup& setup, bool& ok);
// nccl_check.cpp: the NCCL communicator at size 1 (one GPU); ordering behind a queued slow kernel.
nlohmann::json check_nccl(const CheckSetup& setup, bool& ok);
// throughput.cpp: ResNet-50 (and GoogLeNet) training images/s per batch and math mode, and the per-layer
// forward/backward times at batch 32 as a profile (the format of experiments/profiles/).
// A row whose loss is not finite clears ok.
nlohmann::json measure_throughput(const CheckSetup& setup, const std::string& model, int batch, bool tf32, bool& ok);
nlohmann::json measure_profile(const CheckSetup& setup, const std::string& model, int batch, bool tf32);

}  // namespace gg
