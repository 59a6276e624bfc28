// The GPU optimizer update (core/optim/sgd.cu) in a build without CUDA: unreachable, says so if called.
#include "core/optim/sgd.hpp"
#include "core/util/error.hpp"

namespace gg {

void sgd_step_cuda(GpuContext&, const SgdOptions&, const std::vector<ParamRange>&, float*, const float*, float*,
                   double) {
  throw InputError("sgd: this binary was built without CUDA");
}

}  // namespace gg
