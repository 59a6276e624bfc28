// kernel_time.hpp in a build without CUDA (or without CUPTI): nothing can be recorded.
#include "experiments/gpu_check/kernel_time.hpp"

#include <stdexcept>

namespace gg {

struct KernelTimer::Impl {
  std::string why = "this binary was built without CUDA's profiling interface (CUPTI)";
};

KernelTimer::KernelTimer() : impl_(std::make_unique<Impl>()) {}
KernelTimer::~KernelTimer() = default;
const std::string& KernelTimer::unavailable() const { return impl_->why; }
void KernelTimer::start() { throw std::logic_error("KernelTimer: " + impl_->why); }
KernelTimes KernelTimer::stop() { throw std::logic_error("KernelTimer: " + impl_->why); }

}  // namespace gg
