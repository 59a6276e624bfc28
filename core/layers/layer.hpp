#pragma once
// The Layer contract (after Caffe's layer.hpp, narrowed).
//
// Life cycle: construct from options -> setup(input shapes) once, which validates and returns the
// output shape -> params() tells the graph how many floats each parameter tensor needs -> bind()
// hands the layer views into the model's flat parameter and gradient buffers -> init() fills its
// parameters -> forward()/backward() many times.
//
// Data layout is NHWC (see shape.hpp). The batch size n may shrink between calls (the last batch of
// an epoch); every other dimension is fixed at setup. Buffers a layer needs across forward and
// backward (masks, im2col scratch) are members sized lazily, so the steady state allocates nothing.
//
// Devices: a layer runs where its tensors are. Layers with GPU kernels (has_cuda()) declare them with
// GG_LAYER_CUDA below and define them in a .cu beside their .cpp (Caffe's .cpp/.cu pair); forward()
// and backward() hand CUDA tensors to them. Their parameter spans then alias device memory, and
// RunContext::gpu carries the streams and library handles. core/cuda/absent/layers.cpp defines the same
// methods, throwing, in a build without CUDA.
//
// backward() OVERWRITES (never accumulates) the gradients of its parameters and of each input whose
// din pointer is non-null; a null din means nobody needs that input's gradient (e.g. the data).
// The graph sums gradients where one output feeds several layers.
#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/tensor/tensor.hpp"
#include "core/util/rng.hpp"

namespace gg {

class GpuContext;  // core/cuda/gpu_context.hpp

enum class Phase { Train, Eval };

// Everything a forward/backward call may depend on besides its tensors.
struct RunContext {
  Phase phase = Phase::Train;
  std::uint64_t step_seed = 0;  // dropout masks are drawn from seed_of(step_seed, layer index)
  double compute_scale = 1.0;   // multiplies injected compute time (proxy layers; core/sim/compute_noise.hpp)
  GpuContext* gpu = nullptr;    // the model's GPU when its tensors are on Device::CUDA (set by Model)
};

enum class Init { Zero, One, Kaiming, Xavier };

struct ParamSpec {
  std::string name;      // "weight", "bias", "gamma", "beta"
  std::size_t count = 0; // floats
  Init init = Init::Zero;
  float fan_in = 1.0f;   // used by Kaiming/Xavier
  float fan_out = 1.0f;
  bool decay = true;     // weight decay applies (false for biases and BN affine terms)
};

class Layer {
 public:
  virtual ~Layer() = default;
  virtual std::string kind() const = 0;

  // Validates input shapes (throws InputError naming the layer and the misfit) and returns the output
  // shape. Called once; n of the inputs is the maximum batch.
  virtual Shape setup(std::span<const Shape> in) = 0;

  virtual std::vector<ParamSpec> params() const { return {}; }
  // One span per ParamSpec, same order; the spans alias the model's flat buffers.
  virtual void bind(std::span<const std::span<float>> weights, std::span<const std::span<float>> grads) {}

  virtual void forward(std::span<const Tensor* const> in, Tensor& out, const RunContext& ctx) = 0;
  virtual void backward(std::span<const Tensor* const> in, const Tensor& out, const Tensor& dout,
                        std::span<Tensor* const> din, const RunContext& ctx) = 0;

  // FLOPs of one forward pass for one sample (multiply-add = 2), for benchmarks and proxy profiles.
  virtual double forward_flops_per_sample() const { return 0.0; }

  // State that is not a parameter but persists across steps and decides later results (batch norm's
  // running statistics): a checkpoint saves and restores these buffers, in this order.
  virtual std::vector<std::span<float>> persistent_state() { return {}; }

  // True when forward/backward accept CUDA tensors. A model on the GPU refuses layers without.
  virtual bool has_cuda() const { return false; }
  // Called once after setup() with the model's device: moves state the layer owns (running statistics)
  // there, so that persistent_state() spans live on the model's device.
  virtual void place(Device device) {}

  const std::string& name() const { return name_; }
  void set_name(std::string name) { name_ = std::move(name); }
  int index() const { return index_; }
  void set_index(int i) { index_ = i; }

 private:
  std::string name_;
  int index_ = 0;
};

}  // namespace gg

// In a layer's class body: declares its CUDA half (forward_cuda/backward_cuda, defined in the layer's
// .cu) and the slot for that half's state (descriptors, chosen algorithms, scratch: a type private to
// the .cu, created on first use).
#define GG_LAYER_CUDA                                                                                   \
 public:                                                                                                \
  bool has_cuda() const override { return true; }                                                      \
                                                                                                        \
 private:                                                                                               \
  void forward_cuda(std::span<const Tensor* const> in, Tensor& out, const RunContext& ctx);            \
  void backward_cuda(std::span<const Tensor* const> in, const Tensor& out, const Tensor& dout,          \
                     std::span<Tensor* const> din, const RunContext& ctx);                             \
  std::shared_ptr<void> cuda_;
