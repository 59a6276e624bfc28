#include "core/model/model.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "core/cuda/gpu_context.hpp"
#include "core/cuda/runtime.hpp"
#include "core/sim/compute_injection.hpp"
#include "core/util/memory.hpp"
#include "core/util/error.hpp"

namespace gg {

Model::Model(Shape input_sample, int num_classes) : input_(input_sample), classes_(num_classes) {
  input_.n = 1;
}

int Model::add(std::unique_ptr<Layer> layer, std::vector<int> inputs) {
  if (finalized_) throw std::logic_error("Model::add after finalize");
  const int id = int(nodes_.size()) + 1;
  if (inputs.empty()) throw InputError("layer '" + layer->name() + "' has no inputs");
  for (int in : inputs)
    if (in < 0 || in >= id)
      throw InputError("layer '" + layer->name() + "' reads node " + std::to_string(in) +
                       " which is not an earlier layer");
  if (layer->name().empty()) layer->set_name(layer->kind() + std::to_string(id));
  layer->set_index(id);
  Node node;
  node.layer = std::move(layer);
  node.inputs = std::move(inputs);
  nodes_.push_back(std::move(node));
  return id;
}

void Model::place_on(Placement placement) {
  if (finalized_) throw std::logic_error("Model::place_on after finalize");
  gpu_ = std::move(placement.gpu);
  staged_ = gpu_ && placement.host_staged;
}

void Model::finalize(int max_batch, std::size_t bucket_bytes) {
  if (finalized_) throw std::logic_error("Model::finalize twice");
  const Device dev = device();
  if (nodes_.empty()) throw InputError("model has no layers");
  if (max_batch < 1) throw InputError("model: batch must be >= 1");
  max_batch_ = max_batch;
  bucket_bytes_ = bucket_bytes;
  std::vector<Shape> shapes{input_.with_batch(max_batch)};
  std::size_t total = 0;
  std::vector<std::vector<ParamSpec>> specs;
  for (auto& node : nodes_) {
    std::vector<Shape> in;
    for (int i : node.inputs) in.push_back(shapes[i]);
    const Shape out = node.layer->setup(in);
    if (out.count() == 0)
      throw InputError("layer '" + node.layer->name() + "' (" + node.layer->kind() +
                       ") produces an empty output " + out.str());
    shapes.push_back(out);
    if (dev == Device::CUDA && !node.layer->has_cuda())
      throw InputError("layer '" + node.layer->name() + "' (" + node.layer->kind() + ") has no CUDA kernels");
    node.layer->place(dev);
    try {
      node.out = Tensor(out, dev);
      node.grad = Tensor(out, dev);
    } catch (const ResourceError& e) {
      throw ResourceError("model: layer '" + node.layer->name() + "' output and gradient at batch " +
                          std::to_string(max_batch) + ": " + e.what());
    }
    for (int i : node.inputs)
      if (i > 0) nodes_[i - 1].consumers++;
    specs.push_back(node.layer->params());
    node.param_offset = total;
    for (const auto& s : specs.back()) total += s.count;
    node.param_count = total - node.param_offset;
  }
  const Shape last = shapes.back();
  if (last.per_sample() != std::size_t(classes_))
    throw InputError("model: last layer '" + nodes_.back().layer->name() + "' outputs " +
                     std::to_string(last.per_sample()) + " values per sample, but the data has " +
                     std::to_string(classes_) + " classes");
  // Memory first (the message names the size and the machine's memory), then the flat buffer's limit:
  // a Tensor dimension is an int, so one buffer holds at most 2^31 - 1 floats.
  check_allocation(total, sizeof(float), "model: " + std::to_string(total) + " parameters");
  if (total > std::size_t(std::numeric_limits<int>::max()))
    throw ResourceError("model: " + std::to_string(total) + " parameters: more than one flat buffer holds (2^31 - 1)");
  params_ = Tensor({1, 1, 1, int(total)}, dev);
  grads_ = Tensor({1, 1, 1, int(total)}, dev);
  params_.zero();
  grads_.zero();
  if (staged_) {
    host_params_ = cuda::PinnedFloats(total, "model: host mirror of " + std::to_string(total) + " parameters");
    host_grads_ = cuda::PinnedFloats(total, "model: host mirror of " + std::to_string(total) + " gradients");
  }
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    auto& node = nodes_[i];
    std::vector<std::span<float>> w, g;
    std::size_t off = node.param_offset;
    for (const auto& s : specs[i]) {
      w.emplace_back(params_.data() + off, s.count);
      g.emplace_back(grads_.data() + off, s.count);
      ranges_.push_back({off, s.count, s.decay, node.layer->name() + "." + s.name});
      off += s.count;
    }
    node.layer->bind(w, g);
    node.scratch = Tensor(shapes[i + 1], dev);
  }
  accumulated_.assign(nodes_.size() + 1, 0);
  finalized_ = true;
  build_buckets();
}

void Model::set_compute_charges(std::vector<ComputeCharge> per_sample) {
  if (!per_sample.empty() && per_sample.size() != nodes_.size())
    throw std::logic_error("Model::set_compute_charges: " + std::to_string(per_sample.size()) + " charges for " +
                           std::to_string(nodes_.size()) + " layers");
  charges_ = std::move(per_sample);
}

void Model::set_bucket_bytes(std::size_t bytes) {
  bucket_bytes_ = bytes;
  build_buckets();
}

void Model::build_buckets() {
  buckets_.clear();
  bucket_of_node_.assign(nodes_.size(), -1);
  const std::size_t limit = std::max<std::size_t>(1, bucket_bytes_ / sizeof(float));
  std::size_t end = params_.size(), pending = 0;
  for (int i = int(nodes_.size()) - 1; i >= 0; --i) {
    pending += nodes_[i].param_count;
    const bool last = (i == 0);
    if ((pending >= limit || last) && pending > 0) {
      const std::size_t begin = nodes_[i].param_offset;
      buckets_.push_back({int(buckets_.size()), begin, end - begin});
      bucket_of_node_[i] = buckets_.back().index;
      end = begin;
      pending = 0;
    }
  }
  download_queue_.reserve(buckets_.size());  // host-staged backward queues at most every bucket once
}

void Model::init(std::uint64_t seed) {
  // Filled on the host, then copied to the model's device.
  Tensor host(params_.shape());
  for (auto& node : nodes_) {
    std::size_t off = node.param_offset;
    int k = 0;
    for (const auto& s : node.layer->params()) {
      Rng rng(seed_of(seed, std::uint64_t(node.layer->index()), std::uint64_t(k++)));
      float* p = host.data() + off;
      switch (s.init) {
        case Init::Zero: std::fill(p, p + s.count, 0.0f); break;
        case Init::One: std::fill(p, p + s.count, 1.0f); break;
        case Init::Kaiming: {
          const float sd = std::sqrt(2.0f / std::max(1.0f, s.fan_in));
          for (std::size_t j = 0; j < s.count; ++j) p[j] = sd * rng.normal();
          break;
        }
        case Init::Xavier: {
          const float a = std::sqrt(6.0f / std::max(1.0f, s.fan_in + s.fan_out));
          for (std::size_t j = 0; j < s.count; ++j) p[j] = a * (2.0f * rng.uniform() - 1.0f);
          break;
        }
      }
      off += s.count;
    }
  }
  params_.copy_from(host);
  if (staged_) std::copy(host.data(), host.data() + host.size(), host_params_.data());
}

const Tensor& Model::forward(const Tensor& x, const RunContext& ctx_in, const PollHook& poll) {
  if (!finalized_) throw std::logic_error("Model::forward before finalize");
  const int n = x.shape().n;
  if (n < 1 || n > max_batch_ || x.shape().with_batch(1) != input_)
    throw InputError("model: input " + x.shape().str() + " does not fit the model's input " +
                     input_.with_batch(max_batch_).str());
  RunContext ctx = ctx_in;
  ctx.gpu = gpu_.get();
  if (staged_) upload_staged();
  input_tensor_ = &x;
  if (x.device() != device()) {  // a host batch for a GPU model: copied over first
    if (!gpu_) throw std::logic_error("Model::forward: a GPU input for a CPU model");
    if (staged_input_.device() != Device::CUDA) staged_input_ = Tensor(x.shape(), Device::CUDA);
    staged_input_.copy_from(x);
    input_tensor_ = &staged_input_;
  }
  const Tensor& in = *input_tensor_;
  const Tensor* ins[8];
  const bool charge = !charges_.empty() && ctx.phase == Phase::Train;
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    Node& node = nodes_[i];
    const std::size_t k = node.inputs.size();
    if (k > 8) throw std::logic_error("layer with more than 8 inputs");
    for (std::size_t j = 0; j < k; ++j)
      ins[j] = node.inputs[j] == 0 ? &in : &nodes_[node.inputs[j] - 1].out;
    node.out.resize(node.out.shape().with_batch(n));
    node.layer->forward(std::span<const Tensor* const>(ins, k), node.out, ctx);
    if (charge) simulate_compute(charges_[i].forward_s * n * ctx.compute_scale);
    if (poll) poll();
  }
  return nodes_.back().out;
}

void Model::backward(const Tensor& dlogits, const RunContext& ctx_in, const BucketHook& on_bucket,
                     const PollHook& poll) {
  if (!input_tensor_) throw std::logic_error("Model::backward before forward");
  if (dlogits.device() != device()) throw std::logic_error("Model::backward: dlogits on another device than the model");
  RunContext ctx = ctx_in;
  ctx.gpu = gpu_.get();
  Node& top = nodes_.back();
  if (dlogits.shape() != top.out.shape())
    throw std::logic_error("Model::backward: dlogits " + dlogits.shape().str() + " vs logits " +
                           top.out.shape().str());
  if (gpu_) {
    top.grad.resize(dlogits.shape());
    gpu_copy(*gpu_, top.grad.data(), dlogits.data(), dlogits.size());
  } else {
    top.grad.copy_from(dlogits);
  }
  std::fill(accumulated_.begin(), accumulated_.end(), 0);
  download_queue_.clear();  // a pass that threw part-way left its copies unannounced: they are stale
  const Tensor* ins[8];
  Tensor* dins[8];
  for (int i = int(nodes_.size()) - 1; i >= 0; --i) {
    Node& node = nodes_[i];
    const std::size_t k = node.inputs.size();
    bool summed[8] = {};
    bool any = node.param_count > 0;
    for (std::size_t j = 0; j < k; ++j) {
      const int src = node.inputs[j];
      ins[j] = src == 0 ? input_tensor_ : &nodes_[src - 1].out;
      dins[j] = nullptr;
      if (src == 0) continue;
      any = true;
      Node& prod = nodes_[src - 1];
      prod.grad.resize(prod.out.shape());
      if (accumulated_[src]++ == 0) {
        dins[j] = &prod.grad;  // first gradient to arrive: written in place
      } else {
        dins[j] = &node.scratch;  // later ones: written aside, summed below
        summed[j] = true;
      }
    }
    int scratch_users = 0;
    for (std::size_t j = 0; j < k; ++j) scratch_users += summed[j];
    if (scratch_users > 1) throw std::logic_error("layer '" + node.layer->name() + "' repeats a multi-consumer input");
    if (any) {
      for (std::size_t j = 0; j < k; ++j)
        if (summed[j]) node.scratch.resize(nodes_[node.inputs[j] - 1].out.shape());
      node.layer->backward(std::span<const Tensor* const>(ins, k), node.out, node.grad,
                           std::span<Tensor* const>(dins, k), ctx);
      if (!charges_.empty() && ctx.phase == Phase::Train)
        simulate_compute(charges_[i].backward_s * input_tensor_->shape().n * ctx.compute_scale);
      for (std::size_t j = 0; j < k; ++j) {
        if (!summed[j]) continue;
        float* dst = nodes_[node.inputs[j] - 1].grad.data();
        const float* src = node.scratch.data();
        const std::size_t m = node.scratch.size();
        if (gpu_) {
          gpu_accumulate(*gpu_, dst, src, m);
          continue;
        }
        for (std::size_t e = 0; e < m; ++e) dst[e] += src[e];
      }
    }
    if (bucket_of_node_[i] >= 0) {
      const Bucket& b = buckets_[bucket_of_node_[i]];
      if (staged_) {  // announced once its copy to the host has landed (see "Device" in model.hpp)
        if (device_bucket_hook_) device_bucket_hook_(b);
        gpu_download_async(*gpu_, host_grads_.data() + b.offset, grads_.data() + b.offset, b.count,
                           std::size_t(b.index));
        download_queue_.push_back(b.index);
      } else if (on_bucket) {
        on_bucket(b);
      }
    }
    if (staged_) announce_downloaded(on_bucket, false);
    if (poll) poll();
  }
  if (staged_) announce_downloaded(on_bucket, true);
}

void Model::announce_downloaded(const BucketHook& on_bucket, bool wait) {
  std::size_t k = 0;
  for (; k < download_queue_.size(); ++k) {
    const std::size_t ticket = std::size_t(download_queue_[k]);
    if (wait) {
      gpu_download_wait(*gpu_, ticket);
    } else if (!gpu_download_done(*gpu_, ticket)) {
      break;
    }
    if (on_bucket) on_bucket(buckets_[std::size_t(download_queue_[k])]);
  }
  download_queue_.erase(download_queue_.begin(), download_queue_.begin() + std::ptrdiff_t(k));
}

std::vector<std::span<float>> Model::persistent_state() {
  std::vector<std::span<float>> out;
  for (auto& node : nodes_)
    for (std::span<float> s : node.layer->persistent_state()) out.push_back(s);
  if (!staged_) return out;
  // Host-staged: fresh host copies; the caller may change them, so the next forward() copies them back.
  host_state_.resize(out.size());
  for (std::size_t k = 0; k < out.size(); ++k) {
    host_state_[k].resize({1, 1, 1, int(out[k].size())});
    cuda::copy(host_state_[k].data(), out[k].data(), out[k].size() * sizeof(float));
    out[k] = host_state_[k].span();
  }
  host_state_out_ = true;
  return out;
}

void Model::upload_staged() {
  gpu_upload(*gpu_, params_.data(), host_params_.data(), params_.size());
  if (!host_state_out_) return;
  std::size_t k = 0;
  for (auto& node : nodes_)
    for (std::span<float> s : node.layer->persistent_state()) {
      gpu_upload(*gpu_, s.data(), host_state_[k].data(), s.size());
      ++k;
    }
  host_state_out_ = false;
}

std::vector<LayerInfo> Model::layers() const {
  std::vector<LayerInfo> out;
  for (const auto& node : nodes_)
    out.push_back({node.layer->name(), node.layer->kind(), node.out.shape().with_batch(1),
                   node.param_count, node.layer->forward_flops_per_sample()});
  return out;
}

double Model::forward_flops_per_sample() const {
  double f = 0;
  for (const auto& node : nodes_) f += node.layer->forward_flops_per_sample();
  return f;
}

}  // namespace gg
