#pragma once
// An in-memory labelled image dataset, stored as float NHWC, already normalized (see normalize()).
#include <cstdint>
#include <string>
#include <vector>

#include "core/data/batch.hpp"
#include "core/tensor/shape.hpp"

namespace gg {

struct Dataset {
  std::string name;                  // "fashion-mnist/train"
  Shape sample;                      // {1, h, w, c}
  int num_classes = 0;
  std::vector<float> images;         // [count, h, w, c]
  std::vector<std::int32_t> labels;  // [count]

  std::int64_t size() const { return std::int64_t(labels.size()); }
  const float* image(std::int64_t i) const { return images.data() + i * sample.per_sample(); }
  // Copies samples ids[0..n) into batch (resizing it), labels and ids included.
  void gather(const std::int64_t* ids, int n, Batch& batch) const;
};

}  // namespace gg
