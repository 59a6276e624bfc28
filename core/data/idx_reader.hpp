#pragma once
// IDX files (the MNIST / Fashion-MNIST format): big-endian header, then unsigned bytes.
//   images: magic 0x00000803, count, rows, cols, then count*rows*cols pixels (row-major)
//   labels: magic 0x00000801, count, then count labels
// Either file may be gzipped (detected by content, not by name).
#include <cstdint>
#include <string>

#include "core/data/dataset.hpp"
#include "core/data/normalize.hpp"

namespace gg {

// What load_idx keeps of a file pair; by default every sample.
struct IdxOptions {
  std::int64_t limit = INT64_MAX;     // only samples [0, limit) form the data set
  KeepIds keep;                       // which of those to store (empty: all of them)
  ChannelMoments* moments = nullptr;  // if set, fed every sample of the data set, stored or not, in order
};

// Loads an image file and its label file into a Dataset of {1, rows, cols, 1} samples with pixels
// scaled to [0, 1]. `name` prefixes every error message and becomes Dataset::name. Labels must be
// below max_classes; num_classes = max(max label + 1, min(10, max_classes)).
// Pixels are decoded as the file streams in; only stored samples take memory. The whole of both files
// is checked whatever is kept: every problem (missing file, bad magic, odd dimensions, truncation,
// trailing bytes, count mismatch, label out of range) is an InputError of one line naming the file
// and the problem.
Dataset load_idx(const std::string& images_path, const std::string& labels_path, std::string name,
                 int max_classes = 10, const IdxOptions& options = {});

// The header of an IDX images file (only the first 16 bytes are read and checked).
struct IdxImagesHeader {
  std::int64_t count = 0;
  int rows = 0, cols = 0;
};
IdxImagesHeader read_idx_images_header(const std::string& images_path, const std::string& name);

}  // namespace gg
