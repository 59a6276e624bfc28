#include "core/blas/blas_kernels.hpp"

#include <cblas.h>
#include <omp.h>
#include <strings.h>

#include <algorithm>
#include <cstdlib>

// OpenBLAS's DYNAMIC_ARCH entry points (driver/others/dynamic.c): _quit forgets the kernel table,
// _init picks one again, reading OPENBLAS_CORETYPE. Weak: a build with one fixed kernel set lacks them.
extern "C" {
void gotoblas_dynamic_init(void) __attribute__((weak));
void gotoblas_dynamic_quit(void) __attribute__((weak));
}

namespace gg {

namespace {

bool same_name(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

const char* env_coretype() {
  const char* v = std::getenv("OPENBLAS_CORETYPE");
  return v && *v ? v : nullptr;
}

bool can_switch() { return gotoblas_dynamic_init != nullptr && gotoblas_dynamic_quit != nullptr; }

}  // namespace

std::string best_openblas_kernels(const CpuFeatures& f) {
  if (f.avx512f && f.avx512dq && f.avx512cd && f.avx512bw && f.avx512vl) return f.avx512bf16 ? "Cooperlake" : "SkylakeX";
  if (f.avx2 && f.fma) return "Haswell";
  if (f.avx) return "Sandybridge";
  if (f.sse4_2) return "Nehalem";
  if (f.ssse3) return "Core2";
  return "Prescott";
}

int openblas_kernel_rank(std::string_view kernels) {
  // OpenBLAS 0.3.21's x86_64 kernel sets by their sgemm kernels' instruction set. Zen uses the Haswell
  // kernels, Cooperlake the SkylakeX ones (plus bf16 GEMM, which the engine does not call).
  static constexpr struct {
    const char* name;
    int rank;
  } ranks[] = {
      {"Prescott", 0},    {"Core2", 0},       {"Penryn", 0},      {"Dunnington", 0}, {"Atom", 0},
      {"Nano", 0},        {"Opteron", 0},     {"Opteron_SSE3", 0}, {"Barcelona", 0}, {"Bobcat", 0},
      {"Katmai", 0},      {"Coppermine", 0},  {"Northwood", 0},   {"Banias", 0},     {"Athlon", 0},
      {"Nehalem", 1},     {"Sandybridge", 2}, {"Bulldozer", 2},   {"Piledriver", 2}, {"Steamroller", 2},
      {"Excavator", 2},   {"Haswell", 3},     {"Zen", 3},         {"SkylakeX", 4},   {"Cooperlake", 4},
  };
  for (const auto& r : ranks)
    if (same_name(kernels, r.name)) return r.rank;
  return -1;
}

std::string BlasKernels::str() const {
  std::string lib = library;
  // "OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH ..." -> "OpenBLAS 0.3.21 (DYNAMIC_ARCH)"
  if (const auto sp = lib.find(' ', lib.find(' ') + 1); sp != std::string::npos) {
    const bool dynamic = lib.find("DYNAMIC_ARCH") != std::string::npos;
    lib = lib.substr(0, sp) + (dynamic ? " (DYNAMIC_ARCH)" : "");
  }
  std::string s = lib + ", kernels " + kernels + " (chosen by " + chosen_by;
  if (!replaced.empty()) s += "; replaced " + replaced;
  if (!same_name(kernels, best)) s += "; best for this CPU: " + best;
  return s + ")";
}

BlasKernels blas_kernels() {
  BlasKernels k;
  k.library = openblas_get_config();
  k.kernels = openblas_get_corename();
  k.best = best_openblas_kernels(CpuFeatures::detect());
  k.chosen_by = env_coretype() ? "OPENBLAS_CORETYPE" : same_name(k.kernels, k.best) ? "CPU features" : "OpenBLAS";
  return k;
}

bool switch_openblas_kernels(const std::string& kernels) {
  if (!can_switch()) return false;
  const char* before = env_coretype();
  const std::string saved = before ? before : "";
  setenv("OPENBLAS_CORETYPE", kernels.c_str(), 1);
  gotoblas_dynamic_quit();
  gotoblas_dynamic_init();  // an unknown name falls back to OpenBLAS's own detection
  if (before) setenv("OPENBLAS_CORETYPE", saved.c_str(), 1);
  else unsetenv("OPENBLAS_CORETYPE");
  return same_name(openblas_get_corename(), kernels);
}

void set_compute_threads(int threads) {
  omp_set_num_threads(std::max(1, threads));
  openblas_set_num_threads(1);
}

BlasKernels use_best_blas_kernels() {
  BlasKernels k = blas_kernels();
  if (env_coretype() || !can_switch()) return k;
  const int now = openblas_kernel_rank(k.kernels);
  if (now < 0 || now >= openblas_kernel_rank(k.best)) return k;
  const std::string picked = k.kernels;
  switch_openblas_kernels(k.best);
  k = blas_kernels();
  if (!same_name(k.kernels, picked)) k.replaced = picked;
  return k;
}

}  // namespace gg
