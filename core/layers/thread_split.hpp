#pragma once
// How the CPU layers use threads. The engine's OpenMP team does all the parallel work; OpenBLAS runs
// one thread per call (train.threads sets the team, core/blas/blas_kernels.hpp sets OpenBLAS to 1), so
// BLAS threads never compete with the team's.
//
// Results never depend on the thread count: a layer cuts its work into chunks that depend on the
// shapes alone (never on the team), makes the same single-threaded BLAS call for each chunk whichever
// thread runs it, and adds partial sums in chunk order. (Cutting by the team size would not do:
// OpenBLAS picks a different kernel, and so a different summation order, for small calls.)
#include <omp.h>

#include <algorithm>
#include <cstddef>

namespace gg {

// [begin, end) of part `i` of `parts` contiguous near-equal parts of [0, total).
struct Slice {
  int begin = 0, end = 0;
  int size() const { return end - begin; }
};
inline Slice slice_of(int total, int parts, int i) {
  const int base = total / parts, extra = total % parts;
  const int begin = i * base + std::min(i, extra);
  return {begin, begin + base + (i < extra ? 1 : 0)};
}

// Chunk `i` of [0, total) cut into chunks of `size` (the last one shorter).
inline Slice chunk_of(int total, int size, int i) { return {i * size, std::min(total, (i + 1) * size)}; }
inline int chunk_count(int total, int size) { return (total + size - 1) / size; }

// The team size for `work` floats of work: 1 below `min_work` (a fork/join costs more than it saves),
// never more than `items` (the units the work is split into).
inline int team_for(std::size_t work, int items, std::size_t min_work) {
  if (work < min_work || items < 2) return 1;
  return std::max(1, std::min(omp_get_max_threads(), items));
}

}  // namespace gg
