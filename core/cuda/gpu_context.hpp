#pragma once
// One GPU as the engine uses it: a blocking compute stream, a communication stream, cuBLAS and cuDNN
// handles, a shared convolution workspace and small staging buffers. Created once per process (by the
// model that runs on it) and passed down explicitly through RunContext::gpu: there is no global
// "current context". The complete type lives in core/cuda/cuda_context.cuh (CUDA sources only); the
// rest of the engine sees these functions, defined by core/cuda/gpu_context.cu or, in a build without
// CUDA, by core/cuda/absent/gpu_context.cpp (make_gpu_context throws there).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

namespace gg {

struct GpuOptions {
  int device = 0;
  // TensorFloat-32 in convolutions and GEMMs (cuDNN default math, cuBLAS TF32 tensor-op math); off:
  // FMA-only math, full FP32 products, as the CPU backend computes.
  bool tf32 = false;
};

class GpuContext;

// Throws InputError naming the reason when the device cannot be used.
std::shared_ptr<GpuContext> make_gpu_context(const GpuOptions& options);
const GpuOptions& gpu_options(const GpuContext& gpu);

// Queued on the compute stream; n floats of device memory.
void gpu_accumulate(GpuContext& gpu, float* dst, const float* src, std::size_t n);  // dst += src
void gpu_copy(GpuContext& gpu, float* dst, const float* src, std::size_t n);
// Host floats -> device, queued on the compute stream without waiting for the GPU. A pageable src is
// staged by the driver before the call returns, so the caller may change it right after; a page-locked
// src is read when the stream reaches the copy, so it must stay unchanged until then.
void gpu_upload(GpuContext& gpu, float* dst, const float* src, std::size_t n);
// Device -> host, n floats, queued on the communication stream behind everything queued so far on the
// compute stream: the host does not wait. `ticket` names the copy for gpu_download_done (a query that
// never blocks) and gpu_download_wait; reusing a ticket forgets the earlier copy. dst should be
// page-locked (cuda::PinnedFloats), or the driver makes the copy synchronous.
void gpu_download_async(GpuContext& gpu, float* dst, const float* src, std::size_t n, std::size_t ticket);
bool gpu_download_done(GpuContext& gpu, std::size_t ticket);
void gpu_download_wait(GpuContext& gpu, std::size_t ticket);
// Timestamps on the compute stream for per-layer timing: gpu_mark(i) records event i (events are kept
// by the context, grown on demand); gpu_seconds_between(i, j) waits for event j and returns the GPU time
// from i to j.
void gpu_mark(GpuContext& gpu, std::size_t i);
double gpu_seconds_between(GpuContext& gpu, std::size_t i, std::size_t j);
// Waits until everything queued on the context's streams has run; rethrows a kernel error with context.
void gpu_synchronize(GpuContext& gpu);
// For ordering checks (experiments/gpu_check/): a kernel that keeps the compute stream busy for about
// `seconds` of GPU time, and whether the compute stream has run everything queued on it (never blocks).
void gpu_delay(GpuContext& gpu, double seconds);
bool gpu_compute_idle(GpuContext& gpu);

}  // namespace gg
