// The CUDA halves of the layers (GG_LAYER_CUDA in core/layers/layer.hpp) in a build without CUDA. They are
// unreachable there -- a CUDA tensor cannot be allocated -- and say so if called.
#include "core/layers/add.hpp"
#include "core/layers/avg_pool.hpp"
#include "core/layers/batch_norm.hpp"
#include "core/layers/concat.hpp"
#include "core/layers/conv2d.hpp"
#include "core/layers/dense.hpp"
#include "core/layers/dropout.hpp"
#include "core/layers/layer_util.hpp"
#include "core/layers/lrn.hpp"
#include "core/layers/max_pool.hpp"
#include "core/layers/relu.hpp"

namespace gg {

#define GG_NO_CUDA(Cls)                                                                                 \
  void Cls::forward_cuda(std::span<const Tensor* const>, Tensor&, const RunContext&) {                 \
    layer_fail(*this, "this binary was built without CUDA");                                           \
  }                                                                                                     \
  void Cls::backward_cuda(std::span<const Tensor* const>, const Tensor&, const Tensor&,                 \
                          std::span<Tensor* const>, const RunContext&) {                               \
    layer_fail(*this, "this binary was built without CUDA");                                           \
  }

GG_NO_CUDA(Add)
GG_NO_CUDA(AvgPool)
GG_NO_CUDA(BatchNorm)
GG_NO_CUDA(Concat)
GG_NO_CUDA(Conv2D)
GG_NO_CUDA(Dense)
GG_NO_CUDA(Dropout)
GG_NO_CUDA(LRN)
GG_NO_CUDA(MaxPool)
GG_NO_CUDA(ReLU)

}  // namespace gg
