#pragma once
// Turning CUDA, cuBLAS and cuDNN status codes into exceptions that say which call failed and where.
// CUDA sources only.
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>

#include <string>

#include "core/util/error.hpp"

namespace gg::cuda {

[[noreturn]] void fail(const std::string& api, const char* call, const char* file, int line);

inline void check(cudaError_t e, const char* call, const char* file, int line) {
  if (e == cudaErrorMemoryAllocation) {
    cudaGetLastError();  // clear the sticky-free error so later calls still work
    throw ResourceError(std::string("CUDA out of device memory in ") + call + " (" + file + ":" + std::to_string(line) + ")");
  }
  if (e != cudaSuccess) fail(std::string("CUDA: ") + cudaGetErrorString(e), call, file, line);
}
inline void check(cublasStatus_t e, const char* call, const char* file, int line) {
  if (e != CUBLAS_STATUS_SUCCESS) fail(std::string("cuBLAS: ") + cublasGetStatusString(e), call, file, line);
}
inline void check(cudnnStatus_t e, const char* call, const char* file, int line) {
  if (e != CUDNN_STATUS_SUCCESS) fail(std::string("cuDNN: ") + cudnnGetErrorString(e), call, file, line);
}

}  // namespace gg::cuda

#define GG_CUDA_CHECK(call) ::gg::cuda::check((call), #call, __FILE__, __LINE__)
// After a kernel launch: reports a bad launch configuration at the launch site.
#define GG_CUDA_LAUNCHED() ::gg::cuda::check(cudaGetLastError(), "kernel launch", __FILE__, __LINE__)
