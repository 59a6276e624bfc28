#include "core/blas/cpu_features.hpp"

#include <utility>

// Each feature once: the CpuFeatures field and the name __builtin_cpu_supports (and str()) uses.
#define GG_CPU_FEATURES(X)                                                                             \
  X(sse3, "sse3") X(ssse3, "ssse3") X(sse4_2, "sse4.2") X(avx, "avx") X(avx2, "avx2") X(fma, "fma")    \
  X(avx512f, "avx512f") X(avx512dq, "avx512dq") X(avx512cd, "avx512cd") X(avx512bw, "avx512bw")      \
  X(avx512vl, "avx512vl") X(avx512bf16, "avx512bf16")

namespace gg {

CpuFeatures CpuFeatures::detect() {
  CpuFeatures f;
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
#define GG_DETECT(field, name) f.field = __builtin_cpu_supports(name);
  GG_CPU_FEATURES(GG_DETECT)
#undef GG_DETECT
#endif
  return f;
}

std::string CpuFeatures::str() const {
#define GG_NAMED(field, name) {field, name},
  const std::pair<bool, const char*> named[] = {GG_CPU_FEATURES(GG_NAMED)};
#undef GG_NAMED
  std::string s;
  for (const auto& [has, name] : named)
    if (has) s += (s.empty() ? "" : " ") + std::string(name);
  return s.empty() ? "none" : s;
}

#undef GG_CPU_FEATURES

}  // namespace gg
