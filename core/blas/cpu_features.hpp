#pragma once
// The x86 vector features this CPU and its operating system support (CPUID and XGETBV, through the
// compiler's runtime: a feature whose register state the OS does not save reads as absent). On other
// architectures every field is false.
#include <string>

namespace gg {

struct CpuFeatures {
  bool sse3 = false, ssse3 = false, sse4_2 = false;
  bool avx = false, avx2 = false, fma = false;
  bool avx512f = false, avx512dq = false, avx512cd = false, avx512bw = false, avx512vl = false;
  bool avx512bf16 = false;

  static CpuFeatures detect();
  std::string str() const;  // e.g. "sse3 ssse3 sse4.2 avx avx2 fma avx512f ..." ("none" when empty)
};

}  // namespace gg
