#pragma once
// A model is a DAG of layers over flat parameter memory (llm.c's params_memory, Caffe's Net).
//
//   params_  [num_params]  every layer's weights, layer after layer in forward order
//   grads_   [num_params]  same layout; backward overwrites it completely each step
//
// Device: a model placed on a GPU (place_on, before finalize) keeps these buffers, every activation
// and every layer's state in that GPU's memory; inputs must be CUDA tensors, and forward/backward queue
// work on the GPU's compute stream. Two placements:
//   device-resident  params()/grads()/persistent_state() are device spans (an optimizer on the GPU);
//   host-staged      (what gg_train uses, so that every algorithm runs unchanged on host memory)
//                    params()/grads() are page-locked host mirrors: forward() queues the host
//                    parameters' copy to the GPU; backward() queues each bucket's gradients' copy to
//                    the host on the communication stream the moment the bucket's last kernel is queued
//                    (ordered by an event, the host does not wait), and announces the bucket once its
//                    copy has landed: between layers when a query finds it done, else after the last
//                    layer is queued, waiting for each bucket in order while the GPU works on the rest.
//                    So the host never blocks mid-backward, and an algorithm's messages for early
//                    buckets fly while the GPU computes later ones. params() must not change between
//                    forward() and the end of backward() (the copy may still be reading it; no
//                    algorithm does: they update in finish_step). persistent_state() copies the
//                    layers' state to host mirrors, which the next forward() copies back (the caller
//                    may have changed them: averaging, a restore).
//
// Gradient buckets are contiguous ranges of that layout, formed in BACKWARD order (last layers
// first) and announced through a hook the moment their last layer's backward returns, so that
// communication of late layers overlaps backward of early ones.
#include <cstddef>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/cuda/runtime.hpp"
#include "core/layers/layer.hpp"

namespace gg {

struct Bucket {
  int index = 0;            // 0 = first ready (holds the last layers)
  std::size_t offset = 0;   // into params()/grads()
  std::size_t count = 0;    // floats
};

// A contiguous range of parameters that weight decay applies to.
struct ParamRange {
  std::size_t offset = 0, count = 0;
  bool decay = true;
  std::string name;  // "conv1.weight"
};

struct LayerInfo {
  std::string name, kind;
  Shape out;
  std::size_t params = 0;
  double forward_flops_per_sample = 0;
};

// Simulated compute a layer charges per sample on top of its real arithmetic (core/sim/compute_profile.hpp).
struct ComputeCharge {
  double forward_s = 0, backward_s = 0;
};

// Where a model runs (Model::place_on); no GPU: the CPU.
struct Placement {
  std::shared_ptr<GpuContext> gpu;
  bool host_staged = false;  // see "Device" above
};

using BucketHook = std::function<void(const Bucket&)>;
using PollHook = std::function<void()>;

class Model {
 public:
  // Graph construction: node 0 is the input; add() returns the new node's id. Inputs name earlier
  // nodes. Call finalize() once, after the last add().
  explicit Model(Shape input_sample, int num_classes);
  int add(std::unique_ptr<Layer> layer, std::vector<int> inputs);
  int add(std::unique_ptr<Layer> layer) { return add(std::move(layer), {last_node()}); }
  int last_node() const { return int(nodes_.size()); }  // id of the newest node (0 = input)
  void finalize(int max_batch, std::size_t bucket_bytes = 1 << 20);
  // Before finalize(): run on this GPU (core/cuda/gpu_context.hpp). Throws InputError at finalize() for
  // a layer without CUDA kernels.
  void place_on(Placement placement);
  Device device() const { return gpu_ ? Device::CUDA : Device::CPU; }
  GpuContext* gpu() const { return gpu_.get(); }

  // Kaiming/Xavier/constant initialisation of all parameters from one seed.
  void init(std::uint64_t seed);
  // Per-sample charges, one per layer in forward order (core/sim/compute_profile.hpp); training passes
  // charge them through simulate_compute, evaluation does not. Empty (the default): nothing is charged.
  void set_compute_charges(std::vector<ComputeCharge> per_sample);
  // Regroups gradient buckets (no reallocation of parameters).
  void set_bucket_bytes(std::size_t bytes);

  // x: [n, h, w, c] with n <= max_batch, on the model's device or (GPU model) on the host, then copied
  // over. Returns logits [n, 1, 1, classes] on the model's device. poll runs between layers.
  const Tensor& forward(const Tensor& x, const RunContext& ctx, const PollHook& poll = {});
  // dlogits: [n, 1, 1, classes]. Writes grads(); calls on_bucket as each bucket becomes final.
  void backward(const Tensor& dlogits, const RunContext& ctx, const BucketHook& on_bucket = {},
                const PollHook& poll = {});

  // What algorithms and optimizers update: host memory unless the model is device-resident on a GPU.
  std::span<float> params() { return staged_ ? host_params_.span() : params_.span(); }
  std::span<const float> params() const { return staged_ ? host_params_.span() : params_.span(); }
  std::span<float> grads() { return staged_ ? host_grads_.span() : grads_.span(); }
  // Every layer's persistent non-parameter state (Layer::persistent_state), in forward order.
  std::vector<std::span<float>> persistent_state();
  std::span<const float> grads() const { return staged_ ? host_grads_.span() : grads_.span(); }
  bool host_staged() const { return staged_; }
  // The gradients where backward writes them: device memory on a GPU model (for a collective on the GPU).
  std::span<float> device_grads() { return grads_.span(); }
  // Host-staged: called with each bucket the moment its last backward kernel is queued, before the copy
  // of its gradients to the host is queued. What the hook queues on the GPU context's communication stream
  // (an NCCL allreduce of device_grads() over the bucket) runs before that copy, so the host mirror, and
  // the algorithm's on_bucket_ready, see its result. Empty: none. Whoever sets it clears it before it dies.
  void set_device_bucket_hook(BucketHook hook) { device_bucket_hook_ = std::move(hook); }
  std::size_t num_params() const { return params_.size(); }
  const std::vector<Bucket>& buckets() const { return buckets_; }
  const std::vector<ParamRange>& ranges() const { return ranges_; }
  std::vector<LayerInfo> layers() const;
  Shape input_sample() const { return input_; }
  int num_classes() const { return classes_; }
  int max_batch() const { return max_batch_; }
  double forward_flops_per_sample() const;

 private:
  struct Node {
    std::unique_ptr<Layer> layer;
    std::vector<int> inputs;
    int consumers = 0;
    Tensor out, grad;         // activation and dL/d(activation)
    Tensor scratch;           // dL/d(input) for an input with several consumers, before summing
    std::size_t param_offset = 0, param_count = 0;
  };
  void build_buckets();
  void upload_staged();  // host-staged: parameters (and handed-out state) to the GPU
  // Host-staged: announces the queued buckets whose copy has landed, in order (wait: all of them).
  void announce_downloaded(const BucketHook& on_bucket, bool wait);

  Shape input_;
  int classes_;
  int max_batch_ = 0;
  std::size_t bucket_bytes_ = 1 << 20;
  bool finalized_ = false;
  std::vector<Node> nodes_;       // nodes_[i] is graph node i+1
  const Tensor* input_tensor_ = nullptr;
  Tensor staged_input_;  // a GPU model's copy of a host input batch
  std::shared_ptr<GpuContext> gpu_;  // null: CPU
  Tensor params_, grads_;            // [num_params] on the model's device (the layers' views)
  // Host-staged GPU model only: host mirrors of the flat buffers and of persistent_state(), and whether
  // the state mirrors were handed out since the last upload.
  bool staged_ = false;
  cuda::PinnedFloats host_params_, host_grads_;
  std::vector<int> download_queue_;  // buckets whose copy to the host is queued, not yet announced
  BucketHook device_bucket_hook_;
  std::vector<Tensor> host_state_;
  bool host_state_out_ = false;
  std::vector<ParamRange> ranges_;
  std::vector<Bucket> buckets_;
  std::vector<int> bucket_of_node_;  // bucket that becomes final after node i's backward, or -1
  std::vector<int> accumulated_;     // per node: how many consumer gradients summed this pass
  std::vector<ComputeCharge> charges_;  // per node, per sample; empty = none
};

}  // namespace gg
