// lenet trained on the CPU and on the GPU from the same initial parameters through the same batches
// (synthetic MNIST-shaped data: the GPU node has no datasets), then evaluated on the same held-out
// split, twice on the GPU: device-resident (SGD on the GPU) and host-staged (what gg_train runs: SGD on
// host mirrors, core/model/model.hpp). Each GPU run must reach the CPU run's accuracy.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <numeric>

#include "core/data/normalize.hpp"
#include "core/data/synthetic.hpp"
#include "core/layers/softmax_xent.hpp"
#include "core/optim/sgd.hpp"
#include "experiments/gpu_check/check_util.hpp"
#include "experiments/gpu_check/parts.hpp"

namespace gg {

namespace {

struct Trained {
  double loss_last = 0, accuracy = 0, seconds = 0;
  std::vector<float> params;
};

Trained train(Dataset& train_set, Dataset& test_set, int steps, int batch, const Placement& placement) {
  const std::shared_ptr<GpuContext>& gpu = placement.gpu;
  const Device dev = gpu ? Device::CUDA : Device::CPU;
  auto model = build_model(nlohmann::json("lenet"), "model", train_set.sample, train_set.num_classes, batch, 1 << 20,
                           placement);
  model->init(5);
  Sgd sgd({0.9, 5e-4, false}, model->ranges(), model->num_params(), placement.host_staged ? nullptr : gpu.get());
  Batch b;
  Tensor x(train_set.sample.with_batch(batch), dev), d(Shape{batch, 1, 1, train_set.num_classes}, dev);
  std::vector<std::int64_t> ids(static_cast<std::size_t>(batch));
  Trained out;
  const auto t0 = std::chrono::steady_clock::now();
  const std::int64_t per_epoch = train_set.samples() / batch;
  for (int step = 0; step < steps; ++step) {
    std::iota(ids.begin(), ids.end(), std::int64_t(step % per_epoch) * batch);
    train_set.gather(ids.data(), batch, b);
    // Host-staged takes the host batch as gg_train's step does (Model copies it over); otherwise a device copy.
    if (!placement.host_staged) x.copy_from(b.x);
    const RunContext ctx{Phase::Train, std::uint64_t(step)};
    const float loss = softmax_xent(model->forward(placement.host_staged ? b.x : x, ctx), b.labels, &d, gpu.get());
    model->backward(d, ctx);
    sgd.step(model->params(), model->grads(), 0.01);
    out.loss_last = loss;
  }
  if (gpu) gpu_synchronize(*gpu);
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  int correct = 0;
  std::int64_t seen = 0;
  for (std::int64_t at = 0; at + batch <= test_set.samples(); at += batch) {
    std::iota(ids.begin(), ids.end(), at);
    test_set.gather(ids.data(), batch, b);
    x.copy_from(b.x);
    int top1 = 0;
    topk_correct(model->forward(x, {Phase::Eval, 0}), b.labels, &top1, nullptr);
    correct += top1;
    seen += batch;
  }
  out.accuracy = seen ? double(correct) / double(seen) : 0;
  out.params = placement.host_staged ? std::vector<float>(model->params().begin(), model->params().end())
                                      : host_copy(model->params());
  return out;
}

}  // namespace

nlohmann::json check_training(const CheckSetup& setup, bool& ok) {
  SyntheticSpec spec;
  spec.h = 28;
  spec.w = 28;
  spec.c = 1;
  spec.classes = 10;
  const int batch = 64, steps = setup.quick ? 100 : 600;
  Dataset train_set = make_synthetic(spec, 64 * 200, 0, "synthetic-mnist");
  Dataset test_set = make_synthetic(spec, 64 * 40, 1, "synthetic-mnist");
  const Normalization norm = fit_normalization(train_set);
  apply_normalization(train_set, norm);
  apply_normalization(test_set, norm);
  const Trained cpu = train(train_set, test_set, steps, batch, {});
  nlohmann::json out{{"model", "lenet"}, {"data", "synthetic 28x28x1, 10 classes"}, {"steps", steps},
                     {"batch", batch}, {"accuracy_cpu", cpu.accuracy}, {"loss_cpu", cpu.loss_last},
                     {"seconds_cpu", cpu.seconds}};
  for (bool staged : {false, true}) {
    const Trained gpu = train(train_set, test_set, steps, batch, {make_gpu_context({setup.device, false}), staged});
    const double gap = std::abs(gpu.accuracy - cpu.accuracy);
    const bool pass = gap <= 0.01 && cpu.accuracy > 0.5 && std::isfinite(gpu.loss_last);
    ok = ok && pass;
    const char* how = staged ? "host-staged" : "device-resident";
    std::printf("  lenet %d steps x %d, %s: accuracy CPU %.4f GPU %.4f (gap %.4f), final loss %.4f / %.4f, "
                "parameters differ by %.2e (relative), %.2f s / %.2f s  %s\n",
                steps, batch, how, cpu.accuracy, gpu.accuracy, gap, cpu.loss_last, gpu.loss_last,
                rel_diff(gpu.params, cpu.params), cpu.seconds, gpu.seconds, pass ? "ok" : "FAIL");
    out[how] = {{"accuracy_gpu", gpu.accuracy}, {"gap", gap}, {"loss_gpu", gpu.loss_last},
                {"param_rel_diff", rel_diff(gpu.params, cpu.params)}, {"seconds_gpu", gpu.seconds}, {"pass", pass}};
  }
  return out;
}

}  // namespace gg
