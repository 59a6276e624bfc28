// SGD with momentum on the GPU: the CPU formulas (sgd.hpp), one kernel launch per run of adjacent ranges
// that share their weight decay.
#include "core/cuda/cuda_context.cuh"
#include "core/optim/sgd.hpp"

namespace gg {

namespace {

__global__ void sgd_kernel(float* __restrict w, const float* __restrict g, float* __restrict v, std::size_t n,
                           float lr, float mu, float wd, bool nesterov) {
  for (std::size_t i = grid_first(); i < n; i += grid_stride()) {
    const float d = g[i] + wd * w[i];
    const float vi = mu * v[i] + d;
    v[i] = vi;
    w[i] -= nesterov ? lr * (d + mu * vi) : lr * vi;
  }
}

}  // namespace

void sgd_step_cuda(GpuContext& gpu, const SgdOptions& opt, const std::vector<ParamRange>& ranges, float* params,
                   const float* grads, float* velocity, double lr) {
  gpu.bind();
  const float mu = float(opt.momentum);
  std::size_t i = 0;
  while (i < ranges.size()) {
    const std::size_t begin = ranges[i].offset;
    std::size_t end = begin + ranges[i].count;
    const bool decay = ranges[i].decay;
    std::size_t j = i + 1;
    while (j < ranges.size() && ranges[j].decay == decay && ranges[j].offset == end) end += ranges[j++].count;
    const std::size_t n = end - begin;
    if (n) {
      sgd_kernel<<<blocks_for(n), 256, 0, gpu.compute()>>>(params + begin, grads + begin, velocity + begin, n,
                                                           float(lr), mu, decay ? float(opt.weight_decay) : 0.0f,
                                                           opt.nesterov);
      GG_CUDA_LAUNCHED();
    }
    i = j;
  }
}

}  // namespace gg
