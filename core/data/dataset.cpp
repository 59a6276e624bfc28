#include "core/data/dataset.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>

namespace gg {

std::int64_t Dataset::row_of(std::int64_t id) const {
  if (!partial()) return id >= 0 && id < size() ? id : -1;
  const auto it = std::lower_bound(ids.begin(), ids.end(), id);
  return it != ids.end() && *it == id ? std::int64_t(it - ids.begin()) : -1;
}

void Dataset::gather(const std::int64_t* sample_ids, int n, Batch& batch) const {
  const std::size_t per = sample.per_sample();
  batch.x.resize(sample.with_batch(n));  // keeps its allocation when n shrinks
  batch.labels.resize(std::size_t(n));
  batch.ids.assign(sample_ids, sample_ids + n);
  float* dst = batch.x.data();
  for (int k = 0; k < n; ++k) {
    const std::int64_t i = sample_ids[k], row = row_of(i);
    if (row < 0)  // a caller bug, not the user's input
      throw std::out_of_range(name + ": sample id " + std::to_string(i) +
                              (partial() ? " is not stored on this rank" : "") + " (ids in [0, " +
                              std::to_string(samples()) + "))");
    std::memcpy(dst + std::size_t(k) * per, image(row), per * sizeof(float));
    batch.labels[std::size_t(k)] = labels[std::size_t(row)];
  }
}

void Dataset::keep_only(const std::vector<std::int64_t>& keep) {
  for (std::size_t k = 0; k < keep.size(); ++k)
    if (row_of(keep[k]) < 0 || (k > 0 && keep[k] <= keep[k - 1]))
      throw std::out_of_range(name + ": keep_only needs ascending stored sample ids; got " +
                              std::to_string(keep[k]) + " at position " + std::to_string(k));
  if (!partial() && std::int64_t(keep.size()) == size()) return;  // ascending and complete: all of it
  const std::size_t per = sample.per_sample();
  std::vector<float> kept_images(keep.size() * per);
  std::vector<std::int32_t> kept_labels(keep.size());
  for (std::size_t k = 0; k < keep.size(); ++k) {
    const std::int64_t row = row_of(keep[k]);
    std::memcpy(kept_images.data() + k * per, image(row), per * sizeof(float));
    kept_labels[k] = labels[std::size_t(row)];
  }
  total = samples();
  images = std::move(kept_images);
  labels = std::move(kept_labels);
  ids = keep;
}

}  // namespace gg
