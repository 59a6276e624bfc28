// Add on the GPU: a copy and accumulations on the compute stream.
#include "core/layers/add.hpp"
#include "core/layers/cuda_layer.cuh"

namespace gg {

void Add::forward_cuda(std::span<const Tensor* const> in, Tensor& out, const RunContext& ctx) {
  GpuContext& gpu = gpu_of(*this, ctx);
  out.resize(in[0]->shape());
  gpu_copy(gpu, out.data(), in[0]->data(), out.size());
  for (std::size_t k = 1; k < in.size(); ++k) gpu_accumulate(gpu, out.data(), in[k]->data(), out.size());
}

void Add::backward_cuda(std::span<const Tensor* const> in, const Tensor& out, const Tensor& dout,
                        std::span<Tensor* const> din, const RunContext& ctx) {
  GpuContext& gpu = gpu_of(*this, ctx);
  for (Tensor* d : din) {
    if (!d) continue;
    d->resize(dout.shape());
    gpu_copy(gpu, d->data(), dout.data(), dout.size());
  }
}

}  // namespace gg
