#pragma once
// cuDNN pooling shared by MaxPool and AvgPool (.cu): one descriptor per layer, NHWC tensors.
#include "core/layers/cuda_layer.cuh"

namespace gg {

struct PoolCuda {
  TensorDesc x, y;
  cudnnPoolingDescriptor_t pool = nullptr;
  PoolCuda() { GG_CUDA_CHECK(cudnnCreatePoolingDescriptor(&pool)); }
  ~PoolCuda() { cudnnDestroyPoolingDescriptor(pool); }
};

struct PoolWindow {
  cudnnPoolingMode_t mode;
  int kh, kw, stride, pad;
};

inline PoolCuda& pool_setup(std::shared_ptr<void>& slot, const PoolWindow& w, const Shape& in, const Shape& out) {
  PoolCuda& s = cuda_state<PoolCuda>(slot);
  GG_CUDA_CHECK(cudnnSetPooling2dDescriptor(s.pool, w.mode, CUDNN_PROPAGATE_NAN, w.kh, w.kw, w.pad, w.pad, w.stride,
                                            w.stride));
  s.x.nhwc(in);
  s.y.nhwc(out);
  return s;
}

inline void pool_forward(GpuContext& gpu, std::shared_ptr<void>& slot, const PoolWindow& w, const Tensor& x,
                         Tensor& y, const Shape& out_shape) {
  y.resize(out_shape);
  PoolCuda& s = pool_setup(slot, w, x.shape(), out_shape);
  GG_CUDA_CHECK(cudnnPoolingForward(gpu.dnn(), s.pool, &kOne, s.x.d, x.data(), &kZero, s.y.d, y.data()));
}

inline void pool_backward(GpuContext& gpu, std::shared_ptr<void>& slot, const PoolWindow& w, const Tensor& x,
                          const Tensor& y, const Tensor& dy, Tensor& dx) {
  dx.resize(x.shape());
  PoolCuda& s = pool_setup(slot, w, x.shape(), y.shape());
  GG_CUDA_CHECK(cudnnPoolingBackward(gpu.dnn(), s.pool, &kOne, s.y.d, y.data(), s.y.d, dy.data(), s.x.d, x.data(),
                                     &kZero, s.x.d, dx.data()));
}

}  // namespace gg
