#include "core/data/normalize.hpp"

#include <algorithm>
#include <cmath>

#include "core/util/error.hpp"

namespace gg {

ChannelMoments::ChannelMoments(int channels)
    : c_(std::size_t(std::max(1, channels))), sum_(c_, 0.0), sq_(c_, 0.0) {}

void ChannelMoments::add(const float* x, std::size_t pixels) {
  // One sequential double sum per channel (the order fixes the rounding, so it is part of the result).
  // The sums live in locals: kept in memory, every add would wait on a store-to-load round trip.
  if (c_ == 1) {
    double sum = sum_[0], sq = sq_[0];
    for (std::size_t p = 0; p < pixels; ++p) {
      const double v = x[p];
      sum += v;
      sq += v * v;
    }
    sum_[0] = sum, sq_[0] = sq;
  } else {
    for (std::size_t p = 0; p < pixels; ++p)
      for (std::size_t k = 0; k < c_; ++k) {
        const double v = x[p * c_ + k];
        sum_[k] += v;
        sq_[k] += v * v;
      }
  }
  pixels_ += pixels;
}

Normalization ChannelMoments::result(const std::string& name) const {
  if (pixels_ == 0) throw InputError(name + ": cannot fit a normalization on an empty dataset");
  Normalization n;
  for (std::size_t k = 0; k < c_; ++k) {
    const double mean = sum_[k] / double(pixels_);
    const double var = std::max(0.0, sq_[k] / double(pixels_) - mean * mean);
    const double sd = std::sqrt(var);
    n.mean.push_back(float(mean));
    n.stddev.push_back(sd > 1e-6 ? float(sd) : 1.0f);
  }
  return n;
}

Normalization fit_normalization(const Dataset& ds) {
  ChannelMoments m(ds.sample.c);
  m.add(ds.images.data(), ds.images.size() / std::size_t(ds.sample.c));
  return m.result(ds.name);
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
