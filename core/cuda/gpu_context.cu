// GpuContext: streams, library handles and the small device helpers of core/cuda/gpu_context.hpp.
#include <algorithm>
#include <string>

#include "core/cuda/cuda_context.cuh"
#include "core/cuda/runtime.hpp"

namespace gg {

namespace {

__global__ void accumulate_kernel(float* __restrict dst, const float* __restrict src, std::size_t n) {
  for (std::size_t i = grid_first(); i < n; i += grid_stride())
    dst[i] += src[i];
}

// One thread spins until `cycles` of its SM's clock have passed.
__global__ void delay_kernel(long long cycles) {
  const long long start = clock64();
  while (clock64() - start < cycles) {
  }
}

}  // namespace

GpuContext::GpuContext(const GpuOptions& options) : options_(options) {
  const int count = cuda::device_count();
  if (options.device < 0 || options.device >= count)
    throw InputError("CUDA device " + std::to_string(options.device) + " is not available (" +
                     std::to_string(count) + " visible" + (count ? "" : "; " + cuda::unavailable()) + ")");
  GG_CUDA_CHECK(cudaSetDevice(options.device));
  GG_CUDA_CHECK(cudaStreamCreate(&compute_));
  GG_CUDA_CHECK(cudaStreamCreate(&comm_));
  GG_CUDA_CHECK(cublasCreate(&blas_));
  GG_CUDA_CHECK(cublasSetStream(blas_, compute_));
  GG_CUDA_CHECK(cublasSetMathMode(blas_, options.tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_PEDANTIC_MATH));
  GG_CUDA_CHECK(cudnnCreate(&dnn_));
  GG_CUDA_CHECK(cudnnSetStream(dnn_, compute_));
  std::size_t free_b = 0, total_b = 0;
  GG_CUDA_CHECK(cudaMemGetInfo(&free_b, &total_b));
  workspace_limit_ = std::min<std::size_t>(std::size_t(1) << 30, free_b / 8);
}

GpuContext::~GpuContext() {
  if (compute_) cudaStreamSynchronize(compute_);
  if (comm_) cudaStreamSynchronize(comm_);
  for (cudaEvent_t e : events_) cudaEventDestroy(e);
  for (cudaEvent_t e : sync_events_) cudaEventDestroy(e);
  cuda::release(workspace_);
  cuda::release(labels_);
  cuda::release(scratch_);
  if (dnn_) cudnnDestroy(dnn_);
  if (blas_) cublasDestroy(blas_);
  if (comm_) cudaStreamDestroy(comm_);
  if (compute_) cudaStreamDestroy(compute_);
}

void* GpuContext::workspace(std::size_t bytes) {
  if (bytes > workspace_bytes_) {
    GG_CUDA_CHECK(cudaStreamSynchronize(compute_));  // the old workspace may still be in use
    cuda::release(workspace_);
    workspace_ = nullptr;
    workspace_bytes_ = 0;
    workspace_ = cuda::allocate(bytes, "convolution workspace");
    workspace_bytes_ = bytes;
  }
  return workspace_;
}

const std::int32_t* GpuContext::labels(std::span<const std::int32_t> host) {
  if (host.size() > labels_cap_) {
    GG_CUDA_CHECK(cudaStreamSynchronize(compute_));
    cuda::release(labels_);
    labels_ = nullptr;
    labels_cap_ = 0;
    labels_ = static_cast<std::int32_t*>(cuda::allocate(host.size_bytes(), "labels"));
    labels_cap_ = host.size();
  }
  // Pageable source: the copy is staged before this call returns, so the caller may reuse `host`.
  GG_CUDA_CHECK(cudaMemcpyAsync(labels_, host.data(), host.size_bytes(), cudaMemcpyHostToDevice, compute_));
  return labels_;
}

float* GpuContext::scratch(std::size_t n) {
  if (n > scratch_cap_) {
    GG_CUDA_CHECK(cudaStreamSynchronize(compute_));
    cuda::release(scratch_);
    scratch_ = nullptr;
    scratch_cap_ = 0;
    scratch_ = static_cast<float*>(cuda::allocate(n * sizeof(float), "GPU scratch"));
    scratch_cap_ = n;
  }
  return scratch_;
}

cudaEvent_t GpuContext::event(std::size_t i) {
  while (events_.size() <= i) {
    cudaEvent_t e = nullptr;
    GG_CUDA_CHECK(cudaEventCreate(&e));
    events_.push_back(e);
  }
  return events_[i];
}

cudaEvent_t GpuContext::sync_event(std::size_t i) {
  while (sync_events_.size() <= i) {
    cudaEvent_t e = nullptr;
    GG_CUDA_CHECK(cudaEventCreateWithFlags(&e, cudaEventDisableTiming));
    sync_events_.push_back(e);
  }
  return sync_events_[i];
}

std::shared_ptr<GpuContext> make_gpu_context(const GpuOptions& options) {
  return std::make_shared<GpuContext>(options);
}

const GpuOptions& gpu_options(const GpuContext& gpu) { return gpu.options(); }

void gpu_accumulate(GpuContext& gpu, float* dst, const float* src, std::size_t n) {
  gpu.bind();
  if (!n) return;
  accumulate_kernel<<<blocks_for(n), 256, 0, gpu.compute()>>>(dst, src, n);
  GG_CUDA_LAUNCHED();
}

void gpu_copy(GpuContext& gpu, float* dst, const float* src, std::size_t n) {
  gpu.bind();
  if (n && dst != src)
    GG_CUDA_CHECK(cudaMemcpyAsync(dst, src, n * sizeof(float), cudaMemcpyDeviceToDevice, gpu.compute()));
}

void gpu_upload(GpuContext& gpu, float* dst, const float* src, std::size_t n) {
  gpu.bind();
  if (n) GG_CUDA_CHECK(cudaMemcpyAsync(dst, src, n * sizeof(float), cudaMemcpyHostToDevice, gpu.compute()));
}

// Ticket t uses ordering events 2t (the compute stream reached the copy) and 2t + 1 (the copy is done).
void gpu_download_async(GpuContext& gpu, float* dst, const float* src, std::size_t n, std::size_t ticket) {
  gpu.bind();
  cudaEvent_t ready = gpu.sync_event(2 * ticket), done = gpu.sync_event(2 * ticket + 1);
  GG_CUDA_CHECK(cudaEventRecord(ready, gpu.compute()));
  GG_CUDA_CHECK(cudaStreamWaitEvent(gpu.comm(), ready, 0));
  if (n) GG_CUDA_CHECK(cudaMemcpyAsync(dst, src, n * sizeof(float), cudaMemcpyDeviceToHost, gpu.comm()));
  GG_CUDA_CHECK(cudaEventRecord(done, gpu.comm()));
}

bool gpu_download_done(GpuContext& gpu, std::size_t ticket) {
  return GG_CUDA_DONE(cudaEventQuery(gpu.sync_event(2 * ticket + 1)));
}

void gpu_download_wait(GpuContext& gpu, std::size_t ticket) {
  GG_CUDA_CHECK(cudaEventSynchronize(gpu.sync_event(2 * ticket + 1)));
}

void gpu_mark(GpuContext& gpu, std::size_t i) { gpu.bind(); GG_CUDA_CHECK(cudaEventRecord(gpu.event(i), gpu.compute())); }

double gpu_seconds_between(GpuContext& gpu, std::size_t i, std::size_t j) {
  GG_CUDA_CHECK(cudaEventSynchronize(gpu.event(j)));
  float ms = 0.0f;
  GG_CUDA_CHECK(cudaEventElapsedTime(&ms, gpu.event(i), gpu.event(j)));
  return double(ms) * 1e-3;
}

void gpu_synchronize(GpuContext& gpu) {
  gpu.bind();
  GG_CUDA_CHECK(cudaStreamSynchronize(gpu.compute()));
  GG_CUDA_CHECK(cudaStreamSynchronize(gpu.comm()));
}

void gpu_delay(GpuContext& gpu, double seconds) {
  gpu.bind();
  int khz = 0;
  GG_CUDA_CHECK(cudaDeviceGetAttribute(&khz, cudaDevAttrClockRate, gpu.options().device));
  delay_kernel<<<1, 1, 0, gpu.compute()>>>(static_cast<long long>(seconds * double(khz) * 1e3));
  GG_CUDA_LAUNCHED();
}

bool gpu_compute_idle(GpuContext& gpu) {
  gpu.bind();
  return GG_CUDA_DONE(cudaStreamQuery(gpu.compute()));
}

}  // namespace gg
