// Training speed on the GPU: images/s of forward + loss + backward + SGD at a given batch and math mode,
// the median of timed steps after warm-up (the first steps run cuDNN's algorithm search), and a per-layer
// profile from CUDA events recorded between layers (Model's poll hook runs after every layer).
#include <chrono>
#include <cmath>
#include <cstdio>

#include "core/cuda/runtime.hpp"
#include "core/layers/softmax_xent.hpp"
#include "core/optim/sgd.hpp"
#include "experiments/gpu_check/check_util.hpp"
#include "experiments/gpu_check/kernel_time.hpp"
#include "experiments/gpu_check/parts.hpp"

namespace gg {

namespace {

const Shape kImagenet{1, 224, 224, 3};
constexpr int kClasses = 1000;

struct Rig {
  std::shared_ptr<GpuContext> gpu;
  std::unique_ptr<Model> model;
  std::unique_ptr<Sgd> sgd;
  Tensor x, d;
  std::vector<std::int32_t> labels;
  Rig(const CheckSetup& setup, const std::string& name, int batch, bool tf32) {
    gpu = make_gpu_context({setup.device, tf32});
    model = build_on(nlohmann::json(name), kImagenet, kClasses, batch, gpu, 1);
    sgd = std::make_unique<Sgd>(SgdOptions{0.9, 5e-4, false}, model->ranges(), model->num_params(), gpu.get());
    std::vector<float> host(kImagenet.with_batch(batch).count());
    for (std::size_t i = 0; i < host.size(); ++i) host[i] = float((i * 2654435761u) % 1000) / 500.0f - 1.0f;
    x = on_device(host, kImagenet.with_batch(batch), Device::CUDA);
    d = Tensor({batch, 1, 1, kClasses}, Device::CUDA);
    labels.resize(static_cast<std::size_t>(batch));
    for (int i = 0; i < batch; ++i) labels[std::size_t(i)] = (i * 37) % kClasses;
  }
  // Returns the step's loss.
  float step(int t, const PollHook& fwd_poll = {}, const PollHook& before_bwd = {}, const PollHook& bwd_poll = {}) {
    const RunContext ctx{Phase::Train, std::uint64_t(t)};
    const float loss = softmax_xent(model->forward(x, ctx, fwd_poll), labels, &d, gpu.get());
    if (before_bwd) before_bwd();
    model->backward(d, ctx, {}, bwd_poll);
    sgd->step(model->params(), model->grads(), 0.01);
    return loss;
  }
};

// Shares of wall-clock step time inside cuDNN/cuBLAS kernels, the engine's own kernels and GPU copies, over
// `n` more steps recorded by CUPTI (a separate window: recording slows launches, so it is not the one
// images/s is measured on). The rest of the wall time is the GPU idle: launch gaps and host work.
nlohmann::json kernel_shares(Rig& rig, int first_step, int n) {
  KernelTimer timer;
  if (!timer.unavailable().empty()) return {{"unavailable", timer.unavailable()}};
  gpu_synchronize(*rig.gpu);
  timer.start();
  const auto t0 = std::chrono::steady_clock::now();
  for (int t = 0; t < n; ++t) rig.step(first_step + t);
  gpu_synchronize(*rig.gpu);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const KernelTimes k = timer.stop();
  const double busy = k.library_s + k.own_s + k.copy_s;
  std::printf("    kernel time over %d steps: cuDNN/cuBLAS %.1f%%, engine kernels %.1f%%, copies %.1f%%, GPU idle %.1f%%\n",
              n, 100 * k.library_s / wall, 100 * k.own_s / wall, 100 * k.copy_s / wall, 100 * (1 - busy / wall));
  return {{"steps", n}, {"wall_s", wall}, {"library_kernel_s", k.library_s}, {"engine_kernel_s", k.own_s},
          {"copy_s", k.copy_s}, {"library_kernels", k.library_kernels}, {"engine_kernels", k.own_kernels},
          {"library_share", k.library_s / wall}, {"engine_share", k.own_s / wall}, {"copy_share", k.copy_s / wall},
          {"idle_share", 1 - busy / wall},
          {"method", "CUPTI activity records (kernels, memcpy, memset) over a separate window of steps; engine "
                     "kernels are those in namespace gg, every other kernel counts as cuDNN/cuBLAS"}};
}

}  // namespace

nlohmann::json measure_throughput(const CheckSetup& setup, const std::string& name, int batch, bool tf32, bool& ok) {
  Rig rig(setup, name, batch, tf32);
  const int warm = 3, timed = setup.quick ? 5 : 20;
  for (int t = 0; t < warm; ++t) rig.step(t);
  gpu_synchronize(*rig.gpu);
  std::vector<double> steps;
  bool finite = true;
  float last_loss = 0;
  for (int t = 0; t < timed; ++t) {
    const auto t0 = std::chrono::steady_clock::now();
    last_loss = rig.step(warm + t);
    finite = finite && std::isfinite(last_loss);
    gpu_synchronize(*rig.gpu);
    steps.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  const double med = median(steps);
  ok = ok && finite;
  std::printf("  %-9s batch %3d %s: %.1f images/s (median step %.2f ms over %d), last loss %.4f  %s\n", name.c_str(),
              batch, tf32 ? "TF32" : "FP32", batch / med, med * 1e3, timed, double(last_loss),
              finite ? "ok" : "FAIL (loss not finite)");
  return {{"model", name}, {"batch", batch}, {"math", tf32 ? "tf32" : "fp32"}, {"images_per_s", batch / med},
          {"median_step_s", med}, {"steps", steps}, {"last_loss", finite ? nlohmann::json(last_loss) : nlohmann::json(nullptr)},
          {"pass", finite},
          {"placement", "device-resident (SGD on the GPU): an upper bound for gg_train's host-staged runs"},
          {"kernel_time", kernel_shares(rig, warm + timed, setup.quick ? 3 : 10)}};
}

nlohmann::json measure_profile(const CheckSetup& setup, const std::string& name, int batch, bool tf32) {
  Rig rig(setup, name, batch, tf32);
  const auto layers = rig.model->layers();
  const std::size_t L = layers.size();
  for (int t = 0; t < 3; ++t) rig.step(t);
  // Events: 0 = before forward, 1..L after each layer's forward; L+1 = before backward, then one after
  // each layer's backward (last layer first).
  const int timed = setup.quick ? 3 : 10;
  std::vector<std::vector<double>> fwd(L), bwd(L);
  std::vector<double> total;
  for (int t = 0; t < timed; ++t) {
    std::size_t f = 0, b = 0;
    GpuContext& gpu = *rig.gpu;
    gpu_synchronize(gpu);
    gpu_mark(gpu, 0);
    const auto t0 = std::chrono::steady_clock::now();
    rig.step(10 + t, [&] { gpu_mark(gpu, 1 + f++); }, [&] { gpu_mark(gpu, L + 1); },
             [&] { gpu_mark(gpu, L + 2 + b++); });
    gpu_synchronize(gpu);
    total.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    for (std::size_t i = 0; i < L; ++i) fwd[i].push_back(gpu_seconds_between(gpu, i, i + 1));
    // Backward of layer L-1-k ran between marks L+1+k and L+2+k.
    for (std::size_t k = 0; k < L; ++k) bwd[L - 1 - k].push_back(gpu_seconds_between(gpu, L + 1 + k, L + 2 + k));
  }
  nlohmann::json out_layers = nlohmann::json::array();
  double fs = 0, bs = 0;
  for (std::size_t i = 0; i < L; ++i) {
    const double fm = median(fwd[i]), bm = median(bwd[i]);
    fs += fm;
    bs += bm;
    out_layers.push_back({{"name", layers[i].name}, {"kind", layers[i].kind}, {"params", layers[i].params},
                          {"mflops", layers[i].forward_flops_per_sample * 1e-6}, {"forward_s", fm}, {"backward_s", bm}});
  }
  std::printf("  profile %s batch %d %s: forward %.2f ms, backward %.2f ms, step %.2f ms (median)\n", name.c_str(),
              batch, tf32 ? "TF32" : "FP32", fs * 1e3, bs * 1e3, median(total) * 1e3);
  const std::string device = cuda::device_name(setup.device);
  return {{"name", name + "_" + profile_suffix(device)}, {"model", name}, {"device", device}, {"batch", batch},
          {"input", {224, 224, 3}}, {"classes", kClasses}, {"math", tf32 ? "tf32" : "fp32"},
          {"measured", {{"images_per_s", batch / median(total)}, {"step_s", median(total)}}},
          {"derivation", "MEASURED by gg_gpu_check: CUDA events between layers on the compute stream, median of " +
                             std::to_string(timed) + " steps after 3 warm-up steps; the loss and the optimizer update are "
                             "outside every layer (step_s includes them)"},
          {"total_params", rig.model->num_params()}, {"total_forward_s", fs}, {"total_backward_s", bs},
          {"layers", out_layers}};
}

}  // namespace gg
