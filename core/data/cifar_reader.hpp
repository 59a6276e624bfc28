#pragma once
// CIFAR-10 binary format: a file is a sequence of 3073-byte records, each one label byte (0..9)
// followed by a 32x32 image stored as three planes (all R, then all G, then all B, rows top-down).
#include <string>
#include <vector>

#include "core/data/dataset.hpp"

namespace gg {

inline constexpr int kCifarSide = 32;
inline constexpr int kCifarRecord = 1 + 3 * kCifarSide * kCifarSide;  // 3073 bytes

// Concatenates the records of all files (in order) into one Dataset of {1, 32, 32, 3} NHWC samples
// with pixels in [0, 1]. `name` prefixes every error and becomes Dataset::name. Each problem (missing
// file, size not a multiple of 3073, label >= 10) is an InputError naming the file.
Dataset load_cifar10(const std::vector<std::string>& paths, std::string name);

}  // namespace gg
