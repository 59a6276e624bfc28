#include "core/data/dataset.hpp"

#include <cstring>
#include <stdexcept>
#include <string>

namespace gg {

void Dataset::gather(const std::int64_t* ids, int n, Batch& batch) const {
  const std::size_t per = sample.per_sample();
  batch.x.resize(sample.with_batch(n));  // keeps its allocation when n shrinks
  batch.labels.resize(std::size_t(n));
  batch.ids.assign(ids, ids + n);
  float* dst = batch.x.data();
  for (int k = 0; k < n; ++k) {
    const std::int64_t i = ids[k];
    if (i < 0 || i >= size())  // a caller bug, not the user's input
      throw std::out_of_range(name + ": sample id " + std::to_string(i) + " out of [0, " +
                              std::to_string(size()) + ")");
    std::memcpy(dst + std::size_t(k) * per, image(i), per * sizeof(float));
    batch.labels[std::size_t(k)] = labels[std::size_t(i)];
  }
}

}  // namespace gg
