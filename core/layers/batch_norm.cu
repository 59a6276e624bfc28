// BatchNorm on cuDNN's spatial batch normalisation over NHWC activations. cuDNN's running averages
// are r <- (1 - f) r + f batch with f = 1 - momentum, and the running variance is unbiased, as on the
// CPU. Backward in evaluation mode (fixed statistics) has no cuDNN call and is refused.
#include "core/layers/batch_norm.hpp"
#include "core/layers/cuda_layer.cuh"

namespace gg {

namespace {
struct BatchNormCuda {
  TensorDesc x, stats;
  Tensor saved{{1, 1, 1, 1}, Device::CUDA};  // [2c]: batch mean, inverse std of the last Train forward
  Tensor dx_sink;                            // dx when nobody needs it (cuDNN always writes one)
  void describe(const Shape& s) {
    if (x.nhwc(s)) GG_CUDA_CHECK(cudnnDeriveBNTensorDescriptor(stats.d, x.d, CUDNN_BATCHNORM_SPATIAL));
  }
};
}  // namespace

void BatchNorm::forward_cuda(std::span<const Tensor* const> in, Tensor& out, const RunContext& ctx) {
  GpuContext& gpu = gpu_of(*this, ctx);
  BatchNormCuda& s = cuda_state<BatchNormCuda>(cuda_);
  const Tensor& x = *in[0];
  if (running_.device() != Device::CUDA) layer_fail(*this, "running statistics are not on the GPU (place())");
  out.resize(x.shape());
  s.describe(x.shape());
  const int c = in_.c;
  float* rmean = running_mean().data();
  float* rvar = running_var().data();
  if (ctx.phase == Phase::Train) {
    s.saved.resize({1, 1, 1, 2 * c});
    GG_CUDA_CHECK(cudnnBatchNormalizationForwardTraining(
        gpu.dnn(), CUDNN_BATCHNORM_SPATIAL, &kOne, &kZero, s.x.d, x.data(), s.x.d, out.data(), s.stats.d, gamma_,
        beta_, 1.0 - double(o_.momentum), rmean, rvar, double(o_.eps), s.saved.data(), s.saved.data() + c));
  } else {
    GG_CUDA_CHECK(cudnnBatchNormalizationForwardInference(gpu.dnn(), CUDNN_BATCHNORM_SPATIAL, &kOne, &kZero, s.x.d,
                                                          x.data(), s.x.d, out.data(), s.stats.d, gamma_, beta_,
                                                          rmean, rvar, double(o_.eps)));
  }
}

void BatchNorm::backward_cuda(std::span<const Tensor* const> in, const Tensor& out, const Tensor& dout,
                              std::span<Tensor* const> din, const RunContext& ctx) {
  if (ctx.phase != Phase::Train) layer_fail(*this, "backward in evaluation mode is not implemented on CUDA");
  GpuContext& gpu = gpu_of(*this, ctx);
  BatchNormCuda& s = cuda_state<BatchNormCuda>(cuda_);
  const Tensor& x = *in[0];
  const int c = in_.c;
  if (s.saved.size() != std::size_t(2 * c)) layer_fail(*this, "backward before a Train forward");
  Tensor* dx = din.empty() ? nullptr : din[0];
  Tensor& target = dx ? *dx : device_like(s.dx_sink, x.shape());
  target.resize(x.shape());
  s.describe(x.shape());
  GG_CUDA_CHECK(cudnnBatchNormalizationBackward(gpu.dnn(), CUDNN_BATCHNORM_SPATIAL, &kOne, &kZero, &kOne, &kZero,
                                                s.x.d, x.data(), s.x.d, dout.data(), s.x.d, target.data(), s.stats.d,
                                                gamma_, dgamma_, dbeta_, double(o_.eps), s.saved.data(),
                                                s.saved.data() + c));
}

}  // namespace gg
