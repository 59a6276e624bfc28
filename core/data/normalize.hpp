#pragma once
// Per-channel standardization: statistics are fitted on the training set only, then applied to
// training and test sets alike, so the test set never leaks into preprocessing.
#include <vector>

#include "core/data/dataset.hpp"

namespace gg {

struct Normalization {
  std::vector<float> mean, stddev;  // [c]
};

// Mean and (population) standard deviation of every channel over all pixels of all samples. A
// constant channel gets stddev 1 so that applying the normalization never divides by zero.
Normalization fit_normalization(const Dataset& ds);

// x = (x - mean[c]) / stddev[c] for every pixel. Throws InputError if the channel counts differ.
void apply_normalization(Dataset& ds, const Normalization& norm);

}  // namespace gg
