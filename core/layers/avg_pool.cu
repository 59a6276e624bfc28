// AvgPool on cuDNN: the divisor counts padding (kernel area), as the CPU layer does.
#include "core/layers/avg_pool.hpp"
#include "core/layers/cuda_pooling.cuh"

namespace gg {

void AvgPool::forward_cuda(std::span<const Tensor* const> in, Tensor& out, const RunContext& ctx) {
  const PoolWindow w{CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING, kh_, kw_, stride_, pad_};
  pool_forward(gpu_of(*this, ctx), cuda_, w, *in[0], out, out_.with_batch(in[0]->shape().n));
}

void AvgPool::backward_cuda(std::span<const Tensor* const> in, const Tensor& out, const Tensor& dout,
                            std::span<Tensor* const> din, const RunContext& ctx) {
  Tensor* dx = din.empty() ? nullptr : din[0];
  if (!dx) return;
  const PoolWindow w{CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING, kh_, kw_, stride_, pad_};
  pool_backward(gpu_of(*this, ctx), cuda_, w, *in[0], out, dout, *dx);
}

}  // namespace gg
