#pragma once
// Shapes are 4-D and NHWC: n samples, h rows, w columns, c channels (innermost). A fully connected
// activation is {n, 1, 1, c}. NHWC lets a convolution over the whole batch be one GEMM whose output
// is already in the next layer's layout (rows = n*h*w output pixels, columns = output channels).
#include <cstddef>
#include <string>

namespace gg {

struct Shape {
  int n = 1, h = 1, w = 1, c = 1;

  std::size_t count() const { return std::size_t(n) * h * w * c; }
  std::size_t per_sample() const { return std::size_t(h) * w * c; }
  Shape with_batch(int batch) const { return {batch, h, w, c}; }
  bool operator==(const Shape&) const = default;
  std::string str() const {
    return "[" + std::to_string(n) + "," + std::to_string(h) + "," + std::to_string(w) + "," +
           std::to_string(c) + "]";
  }
};

}  // namespace gg
