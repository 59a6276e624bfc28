#include "core/data/normalize.hpp"

#include <algorithm>
#include <cmath>

#include "core/util/error.hpp"

namespace gg {

Normalization fit_normalization(const Dataset& ds) {
  const std::size_t c = std::size_t(ds.sample.c);
  const std::size_t pixels = ds.images.size() / c;
  if (pixels == 0) throw InputError(ds.name + ": cannot fit a normalization on an empty dataset");
  // Double accumulators per channel: 60000*28*28 floats would lose precision in float sums.
  std::vector<double> sum(c, 0.0), sq(c, 0.0);
  const float* x = ds.images.data();
  for (std::size_t p = 0; p < pixels; ++p)
    for (std::size_t k = 0; k < c; ++k) {
      const double v = x[p * c + k];
      sum[k] += v;
      sq[k] += v * v;
    }
  Normalization n;
  for (std::size_t k = 0; k < c; ++k) {
    const double mean = sum[k] / double(pixels);
    const double var = std::max(0.0, sq[k] / double(pixels) - mean * mean);
    const double sd = std::sqrt(var);
    n.mean.push_back(float(mean));
    n.stddev.push_back(sd > 1e-6 ? float(sd) : 1.0f);
  }
  return n;
}

void apply_normalization(Dataset& ds, const Normalization& norm) {
  const std::size_t c = std::size_t(ds.sample.c);
  if (norm.mean.size() != c || norm.stddev.size() != c)
    throw InputError(ds.name + ": normalization has " + std::to_string(norm.mean.size()) +
                     " channels but the dataset's samples have " + std::to_string(c));
  std::vector<float> inv(c);
  for (std::size_t k = 0; k < c; ++k) inv[k] = 1.0f / norm.stddev[k];
  float* x = ds.images.data();
  const std::size_t pixels = ds.images.size() / c;
  for (std::size_t p = 0; p < pixels; ++p)
    for (std::size_t k = 0; k < c; ++k) x[p * c + k] = (x[p * c + k] - norm.mean[k]) * inv[k];
}

}  // namespace gg
