// core/cuda/runtime.hpp on the CUDA runtime.
#include "core/cuda/runtime.hpp"

#include <nccl.h>

#include <cstdio>

#include "core/cuda/cuda_check.cuh"

namespace gg::cuda {

void fail(const std::string& api, const char* call, const char* file, int line) {
  std::string f = file;
  const auto slash = f.rfind("/core/");
  if (slash != std::string::npos) f = f.substr(slash + 1);
  throw std::runtime_error(api + " in " + call + " (" + f + ":" + std::to_string(line) + ")");
}

bool built() { return true; }

int device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();
    return 0;
  }
  return n;
}

std::string unavailable() {
  int n = 0;
  const cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess) {
    cudaGetLastError();
    return std::string("no CUDA device: ") + cudaGetErrorString(e);
  }
  return n > 0 ? "" : "no CUDA device visible";
}

LibraryVersions library_versions() {
  LibraryVersions v;
  if (cudaDriverGetVersion(&v.driver) != cudaSuccess) v.driver = 0;
  if (cudaRuntimeGetVersion(&v.runtime) != cudaSuccess) v.runtime = 0;
  cudaGetLastError();
  v.cudnn = int(cudnnGetVersion());
  v.cudnn_cudart = int(cudnnGetCudartVersion());
  int major = 0, minor = 0, patch = 0;
  if (cublasGetProperty(MAJOR_VERSION, &major) == CUBLAS_STATUS_SUCCESS &&
      cublasGetProperty(MINOR_VERSION, &minor) == CUBLAS_STATUS_SUCCESS &&
      cublasGetProperty(PATCH_LEVEL, &patch) == CUBLAS_STATUS_SUCCESS)
    v.cublas = 10000 * major + 100 * minor + patch;
  if (ncclGetVersion(&v.nccl) != ncclSuccess) v.nccl = 0;
  return v;
}

std::string device_name(int device) {
  if (device < 0 || device >= device_count())
    throw InputError("CUDA device " + std::to_string(device) + " does not exist (" +
                     std::to_string(device_count()) + " visible; " + unavailable() + ")");
  cudaDeviceProp p{};
  GG_CUDA_CHECK(cudaGetDeviceProperties(&p, device));
  char buf[64];
  std::snprintf(buf, sizeof buf, " (sm_%d%d, %.1f GiB)", p.major, p.minor, double(p.totalGlobalMem) / (1 << 30));
  return std::string(p.name) + buf;
}

namespace {

// One allocation of `memory` through `alloc` (cudaMalloc or cudaMallocHost, named `call`): nothing for 0
// bytes, an InputError without a GPU, a ResourceError worded by `full` when the memory runs out.
template <class Alloc, class Full>
void* allocate_through(std::size_t bytes, const std::string& what, const char* memory, const char* call, Alloc alloc,
                       Full full) {
  if (bytes == 0) return nullptr;
  if (device_count() == 0) throw InputError(what + ": cannot allocate " + memory + ": " + unavailable());
  void* p = nullptr;
  const cudaError_t e = alloc(&p, bytes);
  if (e == cudaErrorMemoryAllocation) {
    cudaGetLastError();
    throw ResourceError(what + ": " + full());
  }
  if (e != cudaSuccess) fail(std::string("CUDA: ") + cudaGetErrorString(e), call, __FILE__, __LINE__);
  return p;
}

}  // namespace

void* allocate(std::size_t bytes, const std::string& what) {
  return allocate_through(bytes, what, "GPU memory", "cudaMalloc",
                          [](void** p, std::size_t n) { return cudaMalloc(p, n); }, [&] {
                            std::size_t free_b = 0, total_b = 0;
                            cudaMemGetInfo(&free_b, &total_b);
                            return "cannot allocate " + std::to_string(bytes >> 20) + " MiB on the GPU (" +
                                   std::to_string(free_b >> 20) + " of " + std::to_string(total_b >> 20) +
                                   " MiB free)";
                          });
}

void release(void* p) noexcept {
  if (p) cudaFree(p);
}

void* allocate_pinned(std::size_t bytes, const std::string& what) {
  return allocate_through(bytes, what, "page-locked memory", "cudaMallocHost",
                          [](void** p, std::size_t n) { return cudaMallocHost(p, n); },
                          [&] { return "cannot page-lock " + std::to_string(bytes >> 20) + " MiB of host memory"; });
}

void release_pinned(void* p) noexcept {
  if (p) cudaFreeHost(p);
}

void copy(void* dst, const void* src, std::size_t bytes) {
  if (bytes) GG_CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyDefault));
}

void zero(void* p, std::size_t bytes) {
  if (bytes) GG_CUDA_CHECK(cudaMemset(p, 0, bytes));
}

}  // namespace gg::cuda
