#pragma once
// IDX files (the MNIST / Fashion-MNIST format): big-endian header, then unsigned bytes.
//   images: magic 0x00000803, count, rows, cols, then count*rows*cols pixels (row-major)
//   labels: magic 0x00000801, count, then count labels
// Either file may be gzipped (detected by content, not by name).
#include <string>

#include "core/data/dataset.hpp"

namespace gg {

// Loads an image file and its label file into a Dataset of {1, rows, cols, 1} samples with pixels
// scaled to [0, 1]. `name` prefixes every error message and becomes Dataset::name. Labels must be
// below max_classes; num_classes = max(max label + 1, min(10, max_classes)).
// Every problem (missing file, bad magic, odd dimensions, truncation, trailing bytes, count mismatch,
// label out of range) is an InputError of one line naming the file and the problem.
Dataset load_idx(const std::string& images_path, const std::string& labels_path, std::string name,
                 int max_classes = 10);

}  // namespace gg
