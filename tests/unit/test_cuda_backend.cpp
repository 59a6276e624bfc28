// The CUDA backend's seam as every machine sees it. Without a GPU (CI, these VMs): asking for the GPU
// fails with one clear message, never a crash, and a model placed nowhere stays on the CPU. With a GPU,
// the device-side checks run here and in full in gg_gpu_check (the ctest entry gpu_check). This file is
// also built into gg_sweep_tests, which scripts/gpu_check.sh carries to the GPU node and runs there
// (--gtest_filter='CudaBackend*'). The CPU-side logic of gg_gpu_check (agreement measures, profile names,
// the part runner) is tested here too.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

#include "core/cuda/gpu_context.hpp"
#include "core/cuda/runtime.hpp"
#include "core/layers/softmax_xent.hpp"
#include "core/config/json_reader.hpp"
#include "core/layers/registry.hpp"
#include "core/model/model_builder.hpp"
#include "core/util/error.hpp"
#include "experiments/gpu_check/check_util.hpp"
#include "experiments/gpu_check/part_runner.hpp"

namespace gg {
namespace {

TEST(CudaBackend, WithoutAGpuEveryEntryPointSaysWhy) {
  if (cuda::device_count() > 0) GTEST_SKIP() << "a GPU is visible: covered by the GPU tests below";
  EXPECT_FALSE(cuda::unavailable().empty());
  try {
    make_gpu_context({});
    FAIL() << "make_gpu_context succeeded without a GPU";
  } catch (const InputError& e) {
    const std::string msg = e.what();
    EXPECT_TRUE(msg.find("CUDA") != std::string::npos) << msg;
  }
  EXPECT_THROW(Tensor(Shape{1, 1, 1, 4}, Device::CUDA), InputError);
}

TEST(CudaBackend, AModelWithoutAGpuIsACpuModel) {
  auto m = build_model(nlohmann::json("lenet"), "model", Shape{1, 28, 28, 1}, 10, 2, 1 << 20, Placement{});
  EXPECT_EQ(m->device(), Device::CPU);
  EXPECT_EQ(m->gpu(), nullptr);
}

// Every layer of the named models has CUDA kernels (a GPU model refuses layers without).
TEST(CudaBackend, EveryLayerOfTheNamedModelsHasCudaKernels) {
  for (const auto& name : model_names()) {
    const nlohmann::json desc = named_model(name, 10);
    for (const auto& layer : desc["layers"]) {
      nlohmann::json cfg = layer;
      cfg.erase("inputs");
      cfg.erase("name");
      const std::string type = cfg["type"];
      cfg.erase("type");
      JsonReader r(cfg, "layer");
      EXPECT_TRUE(make_layer(type, r)->has_cuda()) << name << ": " << type;
    }
  }
}

TEST(CudaBackend, GpuModelMatchesCpuModelOnLenet) {
  if (cuda::device_count() == 0) GTEST_SKIP() << "no GPU: " << cuda::unavailable();
  auto gpu = make_gpu_context({});
  const Shape sample{1, 28, 28, 1};
  auto cpu_model = build_model(nlohmann::json("lenet"), "model", sample, 10, 4);
  auto gpu_model = build_model(nlohmann::json("lenet"), "model", sample, 10, 4, 1 << 20, Placement{gpu});
  cpu_model->init(3);
  gpu_model->init(3);
  Tensor x(sample.with_batch(4));
  for (std::size_t i = 0; i < x.size(); ++i) x.data()[i] = float(i % 17) / 17.0f;
  Tensor xg(sample.with_batch(4), Device::CUDA);
  xg.copy_from(x);
  const std::vector<std::int32_t> y{0, 3, 5, 9};
  Tensor dc, dg(Shape{4, 1, 1, 10}, Device::CUDA);
  const float lc = softmax_xent(cpu_model->forward(x, {Phase::Train, 0}), y, &dc);
  const float lg = softmax_xent(gpu_model->forward(xg, {Phase::Train, 0}), y, &dg, gpu.get());
  ASSERT_TRUE(std::isfinite(lg)) << lg;
  EXPECT_NEAR(lg, lc, 1e-4 * std::abs(lc));
}

// Host-staged (gg_train's placement): params()/grads() are host spans, a host batch is accepted, every
// gradient bucket is announced once, in order, with its host gradients already final (equal to the CPU
// model's when announced, as an algorithm reads them then), and after the pass every gradient is.
TEST(CudaBackend, HostStagedModelMatchesCpuModelOnLenet) {
  if (cuda::device_count() == 0) GTEST_SKIP() << "no GPU: " << cuda::unavailable();
  const Shape sample{1, 28, 28, 1};
  const std::size_t bucket_bytes = 1 << 12;  // several buckets
  auto cpu_model = build_model(nlohmann::json("lenet"), "model", sample, 10, 4, bucket_bytes);
  auto gpu_model = build_model(nlohmann::json("lenet"), "model", sample, 10, 4, bucket_bytes,
                               Placement{make_gpu_context({}), true});
  cpu_model->init(3);
  gpu_model->init(3);
  Tensor x(sample.with_batch(4));
  for (std::size_t i = 0; i < x.size(); ++i) x.data()[i] = float(i % 13) / 13.0f;
  const std::vector<std::int32_t> y{1, 2, 3, 4};
  Tensor dc, dg(Shape{4, 1, 1, 10}, Device::CUDA);
  softmax_xent(cpu_model->forward(x, {Phase::Train, 0}), y, &dc);
  softmax_xent(gpu_model->forward(x, {Phase::Train, 0}), y, &dg, gpu_model->gpu());
  cpu_model->backward(dc, {Phase::Train, 0});
  ASSERT_GT(gpu_model->buckets().size(), 2u);
  std::vector<int> announced;
  double worst_announced = 0;
  gpu_model->backward(dg, {Phase::Train, 0}, [&](const Bucket& b) {
    announced.push_back(b.index);
    for (std::size_t i = b.offset; i < b.offset + b.count; ++i)
      worst_announced = std::isfinite(gpu_model->grads()[i])
                            ? std::max(worst_announced, double(std::abs(gpu_model->grads()[i] - cpu_model->grads()[i])))
                            : INFINITY;  // std::max(x, NaN) would keep x
  });
  std::vector<int> in_order(gpu_model->buckets().size());
  for (std::size_t k = 0; k < in_order.size(); ++k) in_order[k] = int(k);
  EXPECT_EQ(announced, in_order);
  double worst = 0, scale = 1e-12;
  for (std::size_t i = 0; i < cpu_model->num_params(); ++i) {
    if (!std::isfinite(gpu_model->grads()[i])) worst = INFINITY;
    worst = std::max(worst, double(std::abs(gpu_model->grads()[i] - cpu_model->grads()[i])));
    scale = std::max(scale, double(std::abs(cpu_model->grads()[i])));
  }
  EXPECT_LT(worst / scale, 1e-4);
  EXPECT_LT(worst_announced / scale, 1e-4);
}

// Finding F1: a query that answers "not ready" must not leave that code for the next launch's check.
TEST(CudaBackend, ANotReadyQueryLeavesNoErrorForTheNextLaunch) {
  if (cuda::device_count() == 0) GTEST_SKIP() << "no GPU: " << cuda::unavailable();
  auto gpu = make_gpu_context({});
  Tensor a(Shape{1, 1, 1, 1024}, Device::CUDA), b(Shape{1, 1, 1, 1024}, Device::CUDA);
  a.zero();
  b.zero();
  gpu_delay(*gpu, 0.05);
  EXPECT_FALSE(gpu_compute_idle(*gpu)) << "the delay kernel had already finished: the check did not run";
  EXPECT_NO_THROW(gpu_accumulate(*gpu, a.data(), b.data(), a.size()));
  EXPECT_NO_THROW(gpu_synchronize(*gpu));
  EXPECT_TRUE(gpu_compute_idle(*gpu));
}

// gg_gpu_check's agreement measure (finding F7): a NaN or infinity on either side never reads as agreement.
TEST(CudaBackend, GpuCheckDifferenceOfNonFiniteValuesIsInfinite) {
  const std::vector<float> ref{1.0f, -2.0f, 4.0f};
  std::vector<float> got = ref;
  EXPECT_EQ(rel_diff(got, ref), 0.0);
  got[1] = -2.0f + 4e-4f;
  EXPECT_NEAR(rel_diff(got, ref), 1e-4, 1e-6);  // relative to the largest reference value
  got[1] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(rel_diff(got, ref), INFINITY);
  EXPECT_EQ(rel_diff(ref, got), INFINITY);
  got[1] = std::numeric_limits<float>::infinity();
  EXPECT_EQ(rel_diff(got, ref), INFINITY);
  EXPECT_EQ(rel_diff(std::vector<float>{1.0f}, ref), INFINITY);  // sizes differ
  EXPECT_FALSE(within(rel_diff(got, ref), 1e-4));
  EXPECT_FALSE(within(std::numeric_limits<double>::quiet_NaN(), 1e-4));
  EXPECT_TRUE(within(1e-5, 1e-4));
}

// Per-range comparison (finding F13): a bias error hidden by the weights' scale in one vector is found.
TEST(CudaBackend, GpuCheckComparesEachParameterRangeOnItsOwnScale) {
  const std::vector<ParamRange> ranges{{0, 4, true, "conv.weight"}, {4, 2, false, "conv.bias"}};
  const std::vector<float> ref{100.0f, -50.0f, 80.0f, 20.0f, 1e-3f, -2e-3f};
  std::vector<float> got = ref;
  got[5] = -2e-3f * 1.5f;  // 50% off in the bias: 1e-5 of the largest weight
  EXPECT_LT(rel_diff(got, ref), 1e-4) << "the whole-vector measure masks it";
  std::string name;
  EXPECT_NEAR(worst_range_diff(std::span<const float>(got), std::span<const float>(ref), ranges, &name), 0.5, 1e-3);
  EXPECT_EQ(name, "conv.bias");
  got[5] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(worst_range_diff(std::span<const float>(got), std::span<const float>(ref), ranges), INFINITY);
}

// Profiles are named after the GPU they were measured on (finding F8).
TEST(CudaBackend, GpuCheckNamesProfilesAfterTheGpu) {
  EXPECT_EQ(profile_suffix("NVIDIA H100 80GB HBM3"), "h100");
  EXPECT_EQ(profile_suffix("NVIDIA H100 PCIe"), "h100");
  EXPECT_EQ(profile_suffix("NVIDIA H200"), "h200");
  EXPECT_EQ(profile_suffix("NVIDIA H200 NVL"), "h200");
  EXPECT_EQ(profile_suffix("NVIDIA H20"), "h20");
  EXPECT_EQ(profile_suffix("NVIDIA GH200 480GB"), "gh200");
  EXPECT_EQ(profile_suffix("NVIDIA A100-SXM4-40GB"), "a100");
  EXPECT_EQ(profile_suffix("NVIDIA RTX 6000 Ada Generation"), "nvidia_rtx_6000_ada_generation");
  EXPECT_EQ(profile_suffix(""), "gpu");
}

// gg_gpu_check's parts (finding F2): a part that throws fails alone, later parts still run, and the
// results are written after every part.
TEST(CudaBackend, GpuCheckPartRunnerKeepsEveryPartsResults) {
  std::vector<nlohmann::json> written;
  PartRunner run({{"device", "test"}}, [&](const nlohmann::json& j) { written.push_back(j); });
  ASSERT_EQ(written.size(), 1u);  // the header, before any part
  EXPECT_TRUE(run.run("first", [](bool&) { return nlohmann::json{{"value", 1}}; }));
  EXPECT_FALSE(run.run("second", [](bool&) -> nlohmann::json { throw std::runtime_error("device not ready"); }));
  EXPECT_FALSE(run.run("third", [](bool& ok) { ok = false; return nlohmann::json{{"value", 3}}; }));
  EXPECT_TRUE(run.run("fourth", [](bool&) { return nlohmann::json{{"value", 4}}; }));
  ASSERT_EQ(written.size(), 5u);
  EXPECT_EQ(written[1]["first"]["value"], 1);
  EXPECT_FALSE(written[1].contains("second"));
  EXPECT_EQ(written[2]["second"]["error"], "device not ready");
  const nlohmann::json& last = written.back();
  EXPECT_EQ(last["device"], "test");
  EXPECT_EQ(last["fourth"]["value"], 4);
  EXPECT_FALSE(last["pass"].get<bool>());
  EXPECT_TRUE(last["parts"]["first"]["pass"].get<bool>());
  EXPECT_FALSE(last["parts"]["second"]["pass"].get<bool>());
  EXPECT_FALSE(last["parts"]["third"]["pass"].get<bool>());
  EXPECT_TRUE(last["parts"]["fourth"]["seconds"].is_number());
  EXPECT_FALSE(run.ok());
  // One case of a part (a layer, a throughput row): its error is recorded, the part goes on.
  bool ok = true;
  const nlohmann::json r = run_case("conv2d", ok, []() -> nlohmann::json { throw std::runtime_error("no algorithm"); });
  EXPECT_FALSE(ok);
  EXPECT_EQ(r["error"], "no algorithm");
  EXPECT_FALSE(r["pass"].get<bool>());
  // Results of an earlier process's parts (the same folder): its failure stays recorded, but this
  // runner's own parts decide ok().
  std::vector<nlohmann::json> again;
  PartRunner later({{"pass", false}, {"first", {{"value", 1}}}}, [&](const nlohmann::json& j) { again.push_back(j); });
  EXPECT_TRUE(later.run("fifth", [](bool&) { return nlohmann::json{{"value", 5}}; }));
  EXPECT_TRUE(later.ok());
  EXPECT_FALSE(again.back()["pass"].get<bool>());
  EXPECT_EQ(again.back()["first"]["value"], 1);
}

// The library versions are readable without a GPU (the preflight records them); zeros without CUDA.
TEST(CudaBackend, LibraryVersionsNeverThrow) {
  const cuda::LibraryVersions v = cuda::library_versions();
  if (cuda::built()) {
    EXPECT_GT(v.cudnn, 0);
    EXPECT_GT(v.nccl, 0);
    EXPECT_GT(v.cublas, 0);
    EXPECT_GT(v.runtime, 0);
  } else {
    EXPECT_EQ(v.cudnn, 0);
  }
}

}  // namespace
}  // namespace gg
