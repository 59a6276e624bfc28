#pragma once
// Where a window of GPU work spent its time, from CUPTI's activity records (the profiler's own record of
// every kernel and copy the GPU ran): kernels of cuDNN and cuBLAS (every kernel not compiled into the
// engine: cuDNN's and cuBLAS's own, CUTLASS's, the driver's), the engine's own kernels (namespace gg: the
// loss, SGD, LRN, pooling helpers, accumulation) and memory copies and sets. Defined by cupti/ in a CUDA
// build, by absent/ otherwise (available() false, with the reason).
#include <cstddef>
#include <memory>
#include <string>

namespace gg {

struct KernelTimes {
  double library_s = 0;  // inside cuDNN / cuBLAS (and other non-engine) kernels
  double own_s = 0;      // inside the engine's kernels
  double copy_s = 0;     // memcpy / memset on the GPU
  std::size_t library_kernels = 0, own_kernels = 0;
};

class KernelTimer {
 public:
  KernelTimer();
  ~KernelTimer();
  KernelTimer(const KernelTimer&) = delete;
  KernelTimer& operator=(const KernelTimer&) = delete;
  // Empty when the timer works; otherwise why not ("built without CUDA", a CUPTI error).
  const std::string& unavailable() const;
  // Records everything the GPU runs from start() until stop(); stop() waits for the records (the caller
  // synchronizes the GPU first) and returns their sums. One window at a time, one timer per process.
  void start();
  KernelTimes stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace gg
