#pragma once
// SGD with momentum (classical or Nesterov) and decoupled-from-nothing L2 weight decay, over the
// model's flat buffers. The momentum buffer is one contiguous float array of the same layout.
//   v <- mu * v + (g + wd * w)          (wd only on ranges with decay)
//   w <- w - lr * v                      classical
//   w <- w - lr * (g + wd * w + mu * v)  Nesterov (Sutskever form, as PyTorch)
#include <cstddef>
#include <functional>
#include <utility>
#include <span>
#include <vector>

#include "core/model/model.hpp"
#include "core/tensor/tensor.hpp"

namespace gg {

struct SgdOptions {
  double momentum = 0.9;
  double weight_decay = 5e-4;
  bool nesterov = false;
};

class Sgd {
 public:
  // With a GPU context the momentum lives in device memory and step() runs there (sgd.cu): params
  // and grads must then be device buffers (a model on that GPU).
  Sgd(SgdOptions opt, const std::vector<ParamRange>& ranges, std::size_t num_params, GpuContext* gpu = nullptr);
  // Applies one update to params from grads with learning rate lr.
  void step(std::span<float> params, std::span<const float> grads, double lr);
  std::span<float> momentum() { return velocity_.span(); }
  std::span<const float> momentum() const { return velocity_.span(); }
  const SgdOptions& options() const { return opt_; }
  // Called after every step() with the bytes the update read and wrote (w, g, v read; w, v written):
  // the trainer hands it to the metering communicator (Communicator::account_memory).
  void set_memory_hook(std::function<void(std::size_t)> hook) { memory_hook_ = std::move(hook); }

 private:
  SgdOptions opt_;
  std::vector<ParamRange> ranges_;
  Tensor velocity_;  // [num_params] on the CPU, or on the GPU of gpu_
  GpuContext* gpu_ = nullptr;
  std::function<void(std::size_t)> memory_hook_;
};

// The GPU update (sgd.cu; core/cuda/absent/sgd.cpp without CUDA): the same formulas over each range.
void sgd_step_cuda(GpuContext& gpu, const SgdOptions& opt, const std::vector<ParamRange>& ranges, float* params,
                   const float* grads, float* velocity, double lr);

}  // namespace gg
