#pragma once
// An owning float buffer with a shape and the device it lives on: 64-byte aligned host memory, or
// device memory (cudaMalloc, core/cuda/runtime.hpp) for Device::CUDA. Layers read the device from their
// tensors (no global mode). data() of a CUDA tensor is a device pointer: host code must not read it;
// copy_from() and to_host() move values between devices.
#include <cstddef>
#include <memory>
#include <span>
#include <vector>

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
  // Resizes to src's shape and copies its values (any pair of devices; synchronous).
  void copy_from(const Tensor& src);
  // The values, on the host.
  std::vector<float> to_host() const;

  float* data() { return data_.get(); }
  const float* data() const { return data_.get(); }
  std::span<float> span() { return {data_.get(), shape_.count()}; }
  std::span<const float> span() const { return {data_.get(), shape_.count()}; }
  std::size_t size() const { return shape_.count(); }
  const Shape& shape() const { return shape_; }
  Device device() const { return device_; }

 private:
  struct Free {
    Device device;  // value-initialised: CPU (no default member initialiser: Free is nested)
    void operator()(float* p) const;
  };
  Shape shape_{0, 0, 0, 0};
  Device device_ = Device::CPU;
  std::size_t capacity_ = 0;
  std::unique_ptr<float[], Free> data_;
};

}  // namespace gg
