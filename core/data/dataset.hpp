#pragma once
// An in-memory labelled image dataset, stored as float NHWC, already normalized (see normalize()).
//
// A rank may store only part of a data set (see DataSource::load): then `ids` names the sample id of
// each stored row (ascending) and `total` the size of the whole data set. Samples are always
// addressed by their id in the whole data set (gather, Batch::ids), whatever a rank stores.
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "core/data/batch.hpp"
#include "core/tensor/shape.hpp"

namespace gg {

// Which samples of a data set of n samples to store: ascending ids in [0, n), chosen knowing n and
// the labels of all n samples (a label-skewed partition needs them; core/data/label_partition.hpp).
// An empty function stores every sample. (A function because n and the labels are known only once
// the files are read.)
using KeepIds = std::function<std::vector<std::int64_t>(std::int64_t n, std::span<const std::int32_t> labels)>;

struct Dataset {
  std::string name;                  // "fashion-mnist/train"
  Shape sample;                      // {1, h, w, c}
  int num_classes = 0;
  std::vector<float> images;         // [rows, h, w, c]
  std::vector<std::int32_t> labels;  // [rows]
  std::vector<std::int64_t> ids;     // [rows] sample id of each row, ascending; only if total >= 0
  std::int64_t total = -1;           // samples in the whole data set; -1: every sample is stored

  // Stored rows.
  std::int64_t size() const { return std::int64_t(labels.size()); }
  // Samples in the whole data set (what samplers and evaluators count), stored or not.
  std::int64_t samples() const { return total < 0 ? size() : total; }
  bool partial() const { return total >= 0; }
  // Row of sample `id`, or -1 if this dataset does not store it.
  std::int64_t row_of(std::int64_t id) const;
  const float* image(std::int64_t row) const { return images.data() + row * sample.per_sample(); }
  // Copies samples ids[0..n) (sample ids, see above) into batch (resizing it), labels and ids included.
  // A sample that is not stored is a caller bug (std::out_of_range).
  void gather(const std::int64_t* ids, int n, Batch& batch) const;
  // Keeps only the samples `keep` (ascending ids in [0, samples()), each stored); the others' memory
  // is released. Keeping every sample leaves the dataset whole (not partial).
  void keep_only(const std::vector<std::int64_t>& keep);
};

}  // namespace gg
