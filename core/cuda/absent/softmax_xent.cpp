// The GPU loss (core/layers/softmax_xent.cu) in a build without CUDA: unreachable, says so if called.
#include "core/layers/softmax_xent.hpp"
#include "core/util/error.hpp"

namespace gg {

float softmax_xent_cuda(GpuContext&, const Tensor&, std::span<const std::int32_t>, Tensor*) {
  throw InputError("softmax_xent: this binary was built without CUDA");
}

}  // namespace gg
