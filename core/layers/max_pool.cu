// MaxPool on cuDNN (deterministic max pooling; padding never wins, as on the CPU).
#include "core/layers/cuda_pooling.cuh"
#include "core/layers/max_pool.hpp"

namespace gg {

void MaxPool::forward_cuda(std::span<const Tensor* const> in, Tensor& out, const RunContext& ctx) {
  const PoolWindow w{CUDNN_POOLING_MAX_DETERMINISTIC, o_.kernel, o_.kernel, o_.stride, o_.pad};
  pool_forward(gpu_of(*this, ctx), cuda_, w, *in[0], out, out_.with_batch(in[0]->shape().n));
}

void MaxPool::backward_cuda(std::span<const Tensor* const> in, const Tensor& out, const Tensor& dout,
                            std::span<Tensor* const> din, const RunContext& ctx) {
  Tensor* dx = din.empty() ? nullptr : din[0];
  if (!dx) return;
  const PoolWindow w{CUDNN_POOLING_MAX_DETERMINISTIC, o_.kernel, o_.kernel, o_.stride, o_.pad};
  pool_backward(gpu_of(*this, ctx), cuda_, w, *in[0], out, dout, *dx);
}

}  // namespace gg
