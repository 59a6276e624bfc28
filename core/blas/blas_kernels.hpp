#pragma once
// Which BLAS kernels run, and making them the best this CPU supports.
//
// Debian's OpenBLAS is built with DYNAMIC_ARCH: at load time it picks one of its kernel sets ("cores")
// from a table of CPU models. A CPU newer than the table falls back to the SSE3 "Prescott" kernels,
// measured 3x slower in sgemm on an AVX-512 Xeon that OpenBLAS 0.3.21 does not know. So every main
// calls use_best_blas_kernels() first: it ranks OpenBLAS's pick against the best kernel set that the
// CPU's features (CpuFeatures) support and, when OpenBLAS picked a worse one, re-initialises OpenBLAS
// with the better one (its own OPENBLAS_CORETYPE mechanism, re-run in process: gotoblas_dynamic_quit/
// _init). Nothing changes when:
//   - the user set OPENBLAS_CORETYPE (some machines need it: old kernels can be wrong or crash there);
//   - OpenBLAS's pick is as good, or is a kernel set this table does not know (a newer OpenBLAS);
//   - the OpenBLAS build has one fixed kernel set (no DYNAMIC_ARCH entry points).
// Not thread-safe: call before any BLAS call and before starting threads that might make one.
#include <string>
#include <string_view>

#include "core/blas/cpu_features.hpp"

namespace gg {

struct BlasKernels {
  std::string library;    // the BLAS build, e.g. "OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH NO_AFFINITY ..."
  std::string kernels;    // the kernel set that runs now, e.g. "SkylakeX"
  std::string best;       // the best kernel set this CPU's features support
  std::string chosen_by;  // "OPENBLAS_CORETYPE" (the user's), "CPU features" (kernels == best) or "OpenBLAS"
  std::string replaced;   // set by use_best_blas_kernels(): OpenBLAS's own pick when it was replaced

  // One line: "OpenBLAS 0.3.21 (DYNAMIC_ARCH), kernels SkylakeX (chosen by CPU features; replaced Prescott)"
  std::string str() const;
};

// The best OpenBLAS kernel set for these features, for single-precision GEMM.
std::string best_openblas_kernels(const CpuFeatures& f);
// How good a kernel set is for single-precision GEMM (0 = SSE3 ... 4 = AVX-512); -1 for a name this
// table does not know. Names compare case-insensitively, as OPENBLAS_CORETYPE does.
int openblas_kernel_rank(std::string_view kernels);

// What runs now; changes nothing.
BlasKernels blas_kernels();
// Makes the kernels the best this CPU supports, unless one of the cases above holds; returns what runs.
BlasKernels use_best_blas_kernels();
// Re-initialises OpenBLAS with the named kernel set (for tests and benchmarks); false when this build
// cannot (no DYNAMIC_ARCH) or OpenBLAS did not take the name.
bool switch_openblas_kernels(const std::string& kernels);

// The CPU engine's threads: `threads` OpenMP threads do the parallel work (the layers split their
// GEMMs among them, core/layers/thread_split.hpp) and OpenBLAS runs each call on its caller's thread,
// so the two thread pools never compete for cores.
void set_compute_threads(int threads);

}  // namespace gg
