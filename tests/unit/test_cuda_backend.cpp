// The CUDA backend's seam as every machine sees it. Without a GPU (CI, these VMs): asking for the GPU
// fails with one clear message, never a crash, and a model placed nowhere stays on the CPU. With a GPU,
// the device-side checks run here and in full in gg_gpu_check (the ctest entry gpu_check).
#include <gtest/gtest.h>

#include <cmath>

#include "core/cuda/gpu_context.hpp"
#include "core/cuda/runtime.hpp"
#include "core/layers/softmax_xent.hpp"
#include "core/config/json_reader.hpp"
#include "core/layers/registry.hpp"
#include "core/model/model_builder.hpp"
#include "core/util/error.hpp"

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
      worst_announced = std::max(worst_announced, double(std::abs(gpu_model->grads()[i] - cpu_model->grads()[i])));
  });
  std::vector<int> in_order(gpu_model->buckets().size());
  for (std::size_t k = 0; k < in_order.size(); ++k) in_order[k] = int(k);
  EXPECT_EQ(announced, in_order);
  double worst = 0, scale = 1e-12;
  for (std::size_t i = 0; i < cpu_model->num_params(); ++i) {
    worst = std::max(worst, double(std::abs(gpu_model->grads()[i] - cpu_model->grads()[i])));
    scale = std::max(scale, double(std::abs(cpu_model->grads()[i])));
  }
  EXPECT_LT(worst / scale, 1e-4);
  EXPECT_LT(worst_announced / scale, 1e-4);
}

}  // namespace
}  // namespace gg
