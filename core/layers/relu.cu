// ReLU on cuDNN's activation functions.
#include "core/layers/cuda_layer.cuh"
#include "core/layers/relu.hpp"

namespace gg {

namespace {
struct ReLUCuda {
  TensorDesc t;
  cudnnActivationDescriptor_t act = nullptr;
  ReLUCuda() {
    GG_CUDA_CHECK(cudnnCreateActivationDescriptor(&act));
    GG_CUDA_CHECK(cudnnSetActivationDescriptor(act, CUDNN_ACTIVATION_RELU, CUDNN_PROPAGATE_NAN, 0.0));
  }
  ~ReLUCuda() { cudnnDestroyActivationDescriptor(act); }
};
}  // namespace

void ReLU::forward_cuda(std::span<const Tensor* const> in, Tensor& out, const RunContext& ctx) {
  GpuContext& gpu = gpu_of(*this, ctx);
  ReLUCuda& s = cuda_state<ReLUCuda>(cuda_);
  const Tensor& x = *in[0];
  out.resize(x.shape());
  s.t.nhwc(x.shape());
  GG_CUDA_CHECK(cudnnActivationForward(gpu.dnn(), s.act, &kOne, s.t.d, x.data(), &kZero, s.t.d, out.data()));
}

void ReLU::backward_cuda(std::span<const Tensor* const> in, const Tensor& out, const Tensor& dout,
                         std::span<Tensor* const> din, const RunContext& ctx) {
  Tensor* dx = din.empty() ? nullptr : din[0];
  if (!dx) return;
  GpuContext& gpu = gpu_of(*this, ctx);
  ReLUCuda& s = cuda_state<ReLUCuda>(cuda_);
  const Tensor& x = *in[0];
  dx->resize(x.shape());
  s.t.nhwc(x.shape());
  GG_CUDA_CHECK(cudnnActivationBackward(gpu.dnn(), s.act, &kOne, s.t.d, out.data(), s.t.d, dout.data(), s.t.d,
                                        x.data(), &kZero, s.t.d, dx->data()));
}

}  // namespace gg
