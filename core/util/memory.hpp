#pragma once
// Large allocations that say what failed. A buffer sized from user input (a dataset, a model's
// activations) is allocated through these, so running out of memory is a ResourceError naming what
// was being allocated and its size, never a bare std::bad_alloc. A request larger than the machine's
// physical memory is refused before trying: a zero-filled buffer that size would only meet the OOM
// killer, which ends a process without a word.
#include <cstddef>
#include <new>
#include <string>
#include <vector>

#include "core/util/error.hpp"

namespace gg {

// Total physical memory of this machine in bytes (0 if unknown: then nothing is refused up front).
std::size_t physical_memory_bytes();

// Throws ResourceError "<what>: cannot allocate <count x elem bytes> (...)" if the product overflows or
// exceeds physical memory.
void check_allocation(std::size_t count, std::size_t elem_bytes, const std::string& what);

// The ResourceError for a failed allocation of count x elem_bytes.
[[noreturn]] void out_of_memory(std::size_t count, std::size_t elem_bytes, const std::string& what);

// v.resize(n) (zero-filled), or ResourceError naming `what` and the size.
template <class T>
void resize_checked(std::vector<T>& v, std::size_t n, const std::string& what) {
  check_allocation(n, sizeof(T), what);
  try {
    v.resize(n);
  } catch (const std::bad_alloc&) {
    out_of_memory(n, sizeof(T), what);
  } catch (const std::length_error&) {
    out_of_memory(n, sizeof(T), what);
  }
}

}  // namespace gg
