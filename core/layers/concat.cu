// Concat along channels on the GPU: in NHWC each input is a strided block of columns of the output,
// one 2-D copy per input (rows = pixels).
#include "core/layers/concat.hpp"
#include "core/layers/cuda_layer.cuh"

namespace gg {

void Concat::forward_cuda(std::span<const Tensor* const> in, Tensor& out, const RunContext& ctx) {
  GpuContext& gpu = gpu_of(*this, ctx);
  const Shape s = in[0]->shape();
  out.resize({s.n, s.h, s.w, total_});
  const std::size_t pixels = std::size_t(s.n) * s.h * s.w;
  int offset = 0;
  for (std::size_t k = 0; k < in.size(); ++k) {
    const std::size_t c = std::size_t(channels_[k]);
    GG_CUDA_CHECK(cudaMemcpy2DAsync(out.data() + offset, sizeof(float) * total_, in[k]->data(), sizeof(float) * c,
                                    sizeof(float) * c, pixels, cudaMemcpyDeviceToDevice, gpu.compute()));
    offset += channels_[k];
  }
}

void Concat::backward_cuda(std::span<const Tensor* const> in, const Tensor& out, const Tensor& dout,
                           std::span<Tensor* const> din, const RunContext& ctx) {
  GpuContext& gpu = gpu_of(*this, ctx);
  const Shape s = dout.shape();
  const std::size_t pixels = std::size_t(s.n) * s.h * s.w;
  int offset = 0;
  for (std::size_t k = 0; k < in.size(); ++k) {
    const std::size_t c = std::size_t(channels_[k]);
    if (Tensor* d = k < din.size() ? din[k] : nullptr) {
      d->resize(in[k]->shape());
      GG_CUDA_CHECK(cudaMemcpy2DAsync(d->data(), sizeof(float) * c, dout.data() + offset, sizeof(float) * total_,
                                      sizeof(float) * c, pixels, cudaMemcpyDeviceToDevice, gpu.compute()));
    }
    offset += channels_[k];
  }
}

}  // namespace gg
