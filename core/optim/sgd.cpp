#include "core/optim/sgd.hpp"

#include <stdexcept>

namespace gg {

namespace {
constexpr std::size_t kParallelMin = std::size_t(1) << 16;  // below this, a fork/join costs more than it saves
}  // namespace

Sgd::Sgd(SgdOptions opt, const std::vector<ParamRange>& ranges, std::size_t num_params, GpuContext* gpu)
    : opt_(opt), ranges_(ranges), velocity_({1, 1, 1, int(num_params)}, gpu ? Device::CUDA : Device::CPU), gpu_(gpu) {
  for (const auto& r : ranges_)
    if (r.offset + r.count > num_params) throw std::logic_error("Sgd: range outside the parameters");
  velocity_.zero();
}

void Sgd::step(std::span<float> params, std::span<const float> grads, double lr_d) {
  if (params.size() != velocity_.size() || grads.size() != velocity_.size())
    throw std::logic_error("Sgd::step: buffer sizes differ from the optimizer state");
  if (gpu_) {
    sgd_step_cuda(*gpu_, opt_, ranges_, params.data(), grads.data(), velocity_.data(), lr_d);
    if (memory_hook_) memory_hook_(5 * sizeof(float) * params.size());
    return;
  }
  const float lr = float(lr_d), mu = float(opt_.momentum);
  for (const auto& r : ranges_) {
    const float wd = r.decay ? float(opt_.weight_decay) : 0.0f;
    float* __restrict w = params.data() + r.offset;
    const float* __restrict g = grads.data() + r.offset;
    float* __restrict v = velocity_.data() + r.offset;
    const std::size_t n = r.count;
    // Elementwise, so the threads' split changes no result; short ranges stay on one thread.
    if (opt_.nesterov) {
#pragma omp parallel for simd schedule(static) if(n >= kParallelMin)
      for (std::size_t i = 0; i < n; ++i) {
        const float d = g[i] + wd * w[i];
        v[i] = mu * v[i] + d;
        w[i] -= lr * (d + mu * v[i]);
      }
    } else {
#pragma omp parallel for simd schedule(static) if(n >= kParallelMin)
      for (std::size_t i = 0; i < n; ++i) {
        v[i] = mu * v[i] + (g[i] + wd * w[i]);
        w[i] -= lr * v[i];
      }
    }
  }
  if (memory_hook_) memory_hook_(5 * sizeof(float) * params.size());
}

}  // namespace gg
