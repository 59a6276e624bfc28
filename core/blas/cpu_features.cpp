#include "core/blas/cpu_features.hpp"

#include <utility>

namespace gg {

CpuFeatures CpuFeatures::detect() {
  CpuFeatures f;
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  f.sse3 = __builtin_cpu_supports("sse3");
  f.ssse3 = __builtin_cpu_supports("ssse3");
  f.sse4_2 = __builtin_cpu_supports("sse4.2");
  f.avx = __builtin_cpu_supports("avx");
  f.avx2 = __builtin_cpu_supports("avx2");
  f.fma = __builtin_cpu_supports("fma");
  f.avx512f = __builtin_cpu_supports("avx512f");
  f.avx512dq = __builtin_cpu_supports("avx512dq");
  f.avx512cd = __builtin_cpu_supports("avx512cd");
  f.avx512bw = __builtin_cpu_supports("avx512bw");
  f.avx512vl = __builtin_cpu_supports("avx512vl");
  f.avx512bf16 = __builtin_cpu_supports("avx512bf16");
#endif
  return f;
}

std::string CpuFeatures::str() const {
  const std::pair<bool, const char*> named[] = {
      {sse3, "sse3"},         {ssse3, "ssse3"},       {sse4_2, "sse4.2"},     {avx, "avx"},
      {avx2, "avx2"},         {fma, "fma"},           {avx512f, "avx512f"},   {avx512dq, "avx512dq"},
      {avx512cd, "avx512cd"}, {avx512bw, "avx512bw"}, {avx512vl, "avx512vl"}, {avx512bf16, "avx512bf16"},
  };
  std::string s;
  for (const auto& [has, name] : named)
    if (has) s += (s.empty() ? "" : " ") + std::string(name);
  return s.empty() ? "none" : s;
}

}  // namespace gg
