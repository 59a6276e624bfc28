#include "core/tensor/tensor.hpp"

#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>

#include "core/cuda/runtime.hpp"
#include "core/util/memory.hpp"

namespace gg {

void Tensor::Free::operator()(float* p) const {
  if (device == Device::CUDA)
    cuda::release(p);
  else
    std::free(p);
}

void Tensor::resize(Shape shape) {
  const std::size_t need = shape.count();
  if (need > capacity_) {
    const std::string what = "tensor " + shape.str();
    check_allocation(need, sizeof(float), what);
    const std::size_t bytes = ((need * sizeof(float) + 63) / 64) * 64;
    void* p = nullptr;
    if (device_ == Device::CUDA) {
      p = cuda::allocate(bytes, what);
    } else {
      p = std::aligned_alloc(64, bytes);
      if (!p) out_of_memory(need, sizeof(float), what);
    }
    data_ = std::unique_ptr<float[], Free>(static_cast<float*>(p), Free{device_});
    capacity_ = need;
  }
  shape_ = shape;
}

void Tensor::zero() {
  if (!size()) return;
  if (device_ == Device::CUDA)
    cuda::zero(data(), size() * sizeof(float));
  else
    std::memset(data(), 0, size() * sizeof(float));
}

void Tensor::copy_from(const Tensor& src) {
  resize(src.shape());
  if (!size() || data() == src.data()) return;
  if (device_ == Device::CPU && src.device() == Device::CPU)
    std::memcpy(data(), src.data(), size() * sizeof(float));
  else
    cuda::copy(data(), src.data(), size() * sizeof(float));
}

std::vector<float> Tensor::to_host() const {
  std::vector<float> out(size());
  if (!size()) return out;
  if (device_ == Device::CPU)
    std::memcpy(out.data(), data(), size() * sizeof(float));
  else
    cuda::copy(out.data(), data(), size() * sizeof(float));
  return out;
}

}  // namespace gg
