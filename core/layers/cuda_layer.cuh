#pragma once
// What every layer's .cu needs: the GPU of the run, the layer's private CUDA state, and cuDNN scalars.
#include <memory>

#include "core/cuda/cuda_context.cuh"
#include "core/layers/layer_util.hpp"

namespace gg {

inline GpuContext& gpu_of(const Layer& l, const RunContext& ctx) {
  if (!ctx.gpu) layer_fail(l, "CUDA tensors without a GPU context (RunContext::gpu; set by Model)");
  ctx.gpu->bind();  // the rank thread running this layer may not be the one that built the context
  return *ctx.gpu;
}

// The layer's CUDA state of type S (a struct private to its .cu), created on first use.
template <class S>
S& cuda_state(std::shared_ptr<void>& slot) {
  if (!slot) slot = std::make_shared<S>();
  return *static_cast<S*>(slot.get());
}

// cuDNN's alpha/beta scalars (host memory, float for FP32 data).
inline const float kOne = 1.0f, kZero = 0.0f;

// A device scratch tensor shaped like `like`, kept across calls.
inline Tensor& device_like(Tensor& t, const Shape& like) {
  if (t.device() != Device::CUDA) t = Tensor(like, Device::CUDA);
  t.resize(like);
  return t;
}

}  // namespace gg
