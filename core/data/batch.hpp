#pragma once
// One mini-batch: images (normalized, NHWC), labels, and each sample's global id in its dataset
// (ids let tests prove that a shuffle loses and duplicates nothing).
#include <cstdint>
#include <vector>

#include "core/tensor/tensor.hpp"

namespace gg {

struct Batch {
  Tensor x;                          // [n, h, w, c]
  std::vector<std::int32_t> labels;  // [n]
  std::vector<std::int64_t> ids;     // [n]
  int size() const { return int(labels.size()); }
};

}  // namespace gg
