#pragma once
// An owning, 64-byte aligned float buffer with a shape and the device it lives on. Layers read the
// device from their tensors (no global mode); only Device::CPU has kernels in this build, and a CUDA
// backend adds its own storage behind the same type.
#include <cstddef>
#include <memory>
#include <span>

#include "core/tensor/shape.hpp"

namespace gg {

enum class Device { CPU, CUDA };

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(Shape shape, Device device = Device::CPU) : device_(device) { resize(shape); }

  // Keeps the allocation when the new shape fits into it (a smaller last batch costs nothing).
  void resize(Shape shape);
  void zero();

  float* data() { return data_.get(); }
  const float* data() const { return data_.get(); }
  std::span<float> span() { return {data_.get(), shape_.count()}; }
  std::span<const float> span() const { return {data_.get(), shape_.count()}; }
  std::size_t size() const { return shape_.count(); }
  const Shape& shape() const { return shape_; }
  Device device() const { return device_; }

 private:
  struct Free {
    void operator()(float* p) const;
  };
  Shape shape_{0, 0, 0, 0};
  Device device_ = Device::CPU;
  std::size_t capacity_ = 0;
  std::unique_ptr<float[], Free> data_;
};

}  // namespace gg
