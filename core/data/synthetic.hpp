#pragma once
// A learnable synthetic image dataset of any shape and class count, for scaling runs and tests that
// must not depend on files. Each class has a random prototype image (uniform in [0, 1]); a sample is
// its class's prototype plus Gaussian noise of std `noise`. A linear model can learn it, so training
// loss falls; the noise keeps it from being solved in one step.
// Everything depends only on the seed: prototypes on (seed), a split's samples on (seed, split, index),
// so train and test share their prototypes, and the result does not depend on the thread count.
#include <cstdint>
#include <string>

#include "core/data/dataset.hpp"

namespace gg {

struct SyntheticSpec {
  int h = 32, w = 32, c = 3;
  int classes = 10;
  std::uint64_t seed = 1;
  float noise = 1.0f;
};

// `split` picks an independent stream of samples (0 for train, 1 for test, ...).
Dataset make_synthetic(const SyntheticSpec& spec, std::int64_t count, int split, std::string name);

}  // namespace gg
