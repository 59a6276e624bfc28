// lenet trained on the CPU and on the GPU from the same initial parameters through the same batches
// (synthetic MNIST-shaped data: the GPU node has no datasets), then evaluated on the same held-out
// split, twice on the GPU: device-resident (SGD on the GPU) and host-staged (what gg_train runs: SGD on
// host mirrors, core/model/model.hpp). Each GPU run must agree with the CPU run on
//  - the losses of the first kCompared steps, and
//  - every parameter range after kCompared steps (each range relative to its own scale),
// within tolerances derived from FP32 reordering: the CPU run is repeated with every initial parameter
// moved by one unit in the last place (what a different summation order does to a value), and the
// divergence that causes after kCompared steps, times a margin, is the tolerance (never below a floor:
// 1e-4 for losses, 1e-3 for parameters, the FMA-only FP32 bounds of the layer check grown over 10 steps).
// The accuracy after all steps must also match within 0.01 (a smoke check: the CPU reaches ~99.8% here).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <numeric>

#include "core/data/normalize.hpp"
#include "core/data/synthetic.hpp"
#include "core/layers/softmax_xent.hpp"
#include "core/optim/sgd.hpp"
#include "experiments/gpu_check/check_util.hpp"
#include "experiments/gpu_check/part_runner.hpp"
#include "experiments/gpu_check/parts.hpp"

namespace gg {

namespace {

constexpr int kCompared = 10;       // steps whose losses, and parameters after which, are compared
constexpr double kMargin = 30;      // tolerance = margin x the one-ulp divergence
constexpr double kLossFloor = 1e-4, kParamFloor = 1e-3;

struct Trained {
  double loss_last = 0, accuracy = 0, seconds = 0;
  std::vector<float> losses;         // every step's
  std::vector<float> params_early;   // after kCompared steps
  std::vector<float> params;
  std::vector<ParamRange> ranges;
};

// Largest relative difference between the first kCompared losses (infinite if any is not finite).
double loss_diff(const std::vector<float>& a, const std::vector<float>& b) {
  double worst = 0;
  for (std::size_t i = 0; i < std::size_t(kCompared); ++i) {
    if (i >= a.size() || i >= b.size() || !std::isfinite(a[i]) || !std::isfinite(b[i])) return INFINITY;
    worst = std::max(worst, std::abs(double(a[i]) - double(b[i])) / std::max(1e-12, std::abs(double(b[i]))));
  }
  return worst;
}

// perturb: every initial parameter moved by one ulp (alternating up and down), on the CPU only.
Trained train(Dataset& train_set, Dataset& test_set, int steps, int batch, const Placement& placement,
              bool perturb = false) {
  const std::shared_ptr<GpuContext>& gpu = placement.gpu;
  const Device dev = gpu ? Device::CUDA : Device::CPU;
  auto model = build_model(nlohmann::json("lenet"), "model", train_set.sample, train_set.num_classes, batch, 1 << 20,
                           placement);
  model->init(5);
  if (perturb) {
    std::span<float> p = model->params();
    for (std::size_t i = 0; i < p.size(); ++i)
      p[i] = std::nextafter(p[i], (i % 2) ? INFINITY : -INFINITY);
  }
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
    out.losses.push_back(loss);
    if (step + 1 == kCompared)
      out.params_early = placement.host_staged || !gpu ? std::vector<float>(model->params().begin(), model->params().end())
                                                       : host_copy(model->params());
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
  out.params = placement.host_staged || !gpu ? std::vector<float>(model->params().begin(), model->params().end())
                                              : host_copy(model->params());
  out.ranges = model->ranges();
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
  // FP32 reordering noise: the CPU run again from parameters one ulp away.
  const Trained noisy = train(train_set, test_set, kCompared, batch, {}, true);
  const double loss_noise = loss_diff(noisy.losses, cpu.losses);
  const double param_noise = worst_range_diff<ParamRange>(noisy.params_early, cpu.params_early, cpu.ranges);
  const double loss_tol = std::max(kLossFloor, kMargin * loss_noise);
  const double param_tol = std::max(kParamFloor, kMargin * param_noise);
  std::printf("  lenet, FP32 reordering noise after %d steps (one-ulp start): losses %.2e, parameters %.2e; "
              "tolerances %.1e / %.1e\n", kCompared, loss_noise, param_noise, loss_tol, param_tol);
  nlohmann::json out{{"model", "lenet"}, {"data", "synthetic 28x28x1, 10 classes"}, {"steps", steps},
                     {"batch", batch}, {"accuracy_cpu", cpu.accuracy}, {"loss_cpu", cpu.loss_last},
                     {"seconds_cpu", cpu.seconds}, {"compared_steps", kCompared},
                     {"reordering_noise", {{"losses", loss_noise}, {"params", param_noise}}},
                     {"tolerance", {{"losses", loss_tol}, {"params", param_tol}, {"accuracy_gap", 0.01}}}};
  for (bool staged : {false, true}) {
    const char* how = staged ? "host-staged" : "device-resident";
    bool pass = false;
    out[how] = run_case(how, pass, [&]() -> nlohmann::json {
      const Trained gpu = train(train_set, test_set, steps, batch, {make_gpu_context({setup.device, false}), staged});
      const double gap = std::abs(gpu.accuracy - cpu.accuracy);
      const double losses = loss_diff(gpu.losses, cpu.losses);
      std::string worst_range;
      const double early = worst_range_diff<ParamRange>(gpu.params_early, cpu.params_early, cpu.ranges, &worst_range);
      const double final_diff = rel_diff(gpu.params, cpu.params);
      pass = within(losses, loss_tol) && within(early, param_tol) && gap <= 0.01 && cpu.accuracy > 0.5 &&
             std::isfinite(gpu.loss_last);
      std::printf("  lenet %s: first %d losses differ by %.2e (tol %.1e), parameters after %d steps by %.2e "
                  "(worst %s, tol %.1e); after %d steps x %d accuracy CPU %.4f GPU %.4f (gap %.4f), final loss "
                  "%.4f / %.4f, parameters differ by %.2e, %.2f s / %.2f s  %s\n",
                  how, kCompared, losses, loss_tol, kCompared, early, worst_range.c_str(), param_tol, steps, batch,
                  cpu.accuracy, gpu.accuracy, gap, cpu.loss_last, gpu.loss_last, final_diff, cpu.seconds,
                  gpu.seconds, pass ? "ok" : "FAIL");
      return {{"accuracy_gpu", gpu.accuracy}, {"gap", gap}, {"loss_gpu", gpu.loss_last},
              {"first_losses_rel_diff", losses}, {"params_after_compared_steps_rel_diff", early},
              {"params_worst_range", worst_range}, {"param_rel_diff", final_diff}, {"seconds_gpu", gpu.seconds},
              {"pass", pass}};
    });
    ok = ok && pass;
  }
  return out;
}

}  // namespace gg
