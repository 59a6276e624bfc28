#include "core/tensor/tensor.hpp"

#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>

#include "core/util/memory.hpp"

namespace gg {

void Tensor::Free::operator()(float* p) const { std::free(p); }

void Tensor::resize(Shape shape) {
  if (device_ != Device::CPU) throw std::logic_error("Tensor: CUDA storage is not built into this binary");
  const std::size_t need = shape.count();
  if (need > capacity_) {
    const std::string what = "tensor " + shape.str();
    check_allocation(need, sizeof(float), what);
    const std::size_t bytes = ((need * sizeof(float) + 63) / 64) * 64;
    void* p = std::aligned_alloc(64, bytes);
    if (!p) out_of_memory(need, sizeof(float), what);
    data_.reset(static_cast<float*>(p));
    capacity_ = need;
  }
  shape_ = shape;
}

void Tensor::zero() {
  if (size()) std::memset(data(), 0, size() * sizeof(float));
}

}  // namespace gg
