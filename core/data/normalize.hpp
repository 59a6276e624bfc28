#pragma once
// Per-channel standardization: statistics are fitted on the training set only, then applied to
// training and test sets alike, so the test set never leaks into preprocessing.
#include <cstddef>
#include <string>
#include <vector>

#include "core/data/dataset.hpp"

namespace gg {

struct Normalization {
  std::vector<float> mean, stddev;  // [c]
};

// Running per-channel sums over interleaved pixels, fed in any number of pieces: a reader that keeps
// only part of a data set still fits on all of it. Feeding a dataset's pixels in order gives exactly
// (bitwise) what fit_normalization gives.
class ChannelMoments {
 public:
  explicit ChannelMoments(int channels);
  // pixels * channels values, channel innermost.
  void add(const float* x, std::size_t pixels);
  // Mean and population standard deviation; a constant channel gets stddev 1 so that applying the
  // normalization never divides by zero. Throws InputError "<name>: cannot fit ..." if nothing was added.
  Normalization result(const std::string& name) const;

 private:
  std::size_t c_, pixels_ = 0;
  std::vector<double> sum_, sq_;  // doubles: 60000*28*28 floats would lose precision in float sums
};

// Mean and (population) standard deviation of every channel over all pixels of all stored samples.
Normalization fit_normalization(const Dataset& ds);

// x = (x - mean[c]) / stddev[c] for every pixel. Throws InputError if the channel counts differ.
void apply_normalization(Dataset& ds, const Normalization& norm);

}  // namespace gg
