// Kernel selection (core/blas/blas_kernels.hpp): the feature table, the ranking, and the switch itself
// on this machine's OpenBLAS, checked by a GEMM computed after each switch.
#include <cblas.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <vector>

#include "core/blas/blas_kernels.hpp"

namespace gg {
namespace {

CpuFeatures avx512(bool bf16) {
  CpuFeatures f;
  f.sse3 = f.ssse3 = f.sse4_2 = f.avx = f.avx2 = f.fma = true;
  f.avx512f = f.avx512dq = f.avx512cd = f.avx512bw = f.avx512vl = true;
  f.avx512bf16 = bf16;
  return f;
}

TEST(BlasKernels, BestKernelsFollowTheFeatures) {
  EXPECT_EQ(best_openblas_kernels(avx512(false)), "SkylakeX");
  EXPECT_EQ(best_openblas_kernels(avx512(true)), "Cooperlake");
  CpuFeatures f = avx512(false);
  f.avx512vl = false;  // AVX-512 without VL (Knights Landing): OpenBLAS's SkylakeX kernels need it
  EXPECT_EQ(best_openblas_kernels(f), "Haswell");
  f.fma = false;
  EXPECT_EQ(best_openblas_kernels(f), "Sandybridge");
  CpuFeatures old;
  old.sse3 = old.ssse3 = old.sse4_2 = true;
  EXPECT_EQ(best_openblas_kernels(old), "Nehalem");
  EXPECT_EQ(best_openblas_kernels(CpuFeatures{}), "Prescott");
}

TEST(BlasKernels, RankOrdersKernelSetsAndKeepsUnknownOnesOut) {
  EXPECT_LT(openblas_kernel_rank("Prescott"), openblas_kernel_rank("Sandybridge"));
  EXPECT_LT(openblas_kernel_rank("Sandybridge"), openblas_kernel_rank("Haswell"));
  EXPECT_LT(openblas_kernel_rank("Haswell"), openblas_kernel_rank("SkylakeX"));
  EXPECT_EQ(openblas_kernel_rank("Zen"), openblas_kernel_rank("Haswell"));          // Zen runs Haswell's kernels
  EXPECT_EQ(openblas_kernel_rank("Cooperlake"), openblas_kernel_rank("SkylakeX"));  // same sgemm
  EXPECT_EQ(openblas_kernel_rank("skylakex"), openblas_kernel_rank("SkylakeX"));    // as OPENBLAS_CORETYPE
  EXPECT_EQ(openblas_kernel_rank("SapphireRapids"), -1);  // a newer OpenBLAS's name: never replaced
}

// C = A B for a 37 x 29 x 41 product, against a plain loop.
void expect_sgemm_correct() {
  const int m = 37, n = 29, k = 41;
  std::vector<float> a(std::size_t(m) * k), b(std::size_t(k) * n), c(std::size_t(m) * n), ref(c.size(), 0.f);
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = float(int(i % 13) - 6) / 8.f;
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = float(int(i % 7) - 3) / 4.f;
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < n; ++j)
      for (int l = 0; l < k; ++l) ref[std::size_t(i) * n + j] += a[std::size_t(i) * k + l] * b[std::size_t(l) * n + j];
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.f, a.data(), k, b.data(), n, 0.f, c.data(), n);
  for (std::size_t i = 0; i < c.size(); ++i) ASSERT_NEAR(c[i], ref[i], 1e-4f) << "element " << i;
}

TEST(BlasKernels, SwitchReinitialisesOpenBlasAndGemmStaysCorrect) {
  const BlasKernels before = blas_kernels();
  ASSERT_FALSE(before.kernels.empty());
  if (before.library.find("DYNAMIC_ARCH") == std::string::npos) GTEST_SKIP() << "OpenBLAS without DYNAMIC_ARCH";
  ASSERT_TRUE(switch_openblas_kernels("Prescott"));
  EXPECT_EQ(blas_kernels().kernels, "Prescott");
  expect_sgemm_correct();
  // No OPENBLAS_CORETYPE is left behind: the slow kernels are now OpenBLAS's "own" pick, and
  // use_best_blas_kernels() replaces them with the best this CPU supports.
  if (!std::getenv("OPENBLAS_CORETYPE")) {
    const BlasKernels after = use_best_blas_kernels();
    EXPECT_EQ(after.kernels, after.best);
    EXPECT_EQ(after.replaced, after.best == "Prescott" ? "" : "Prescott");
    EXPECT_EQ(after.chosen_by, "CPU features");
  }
  ASSERT_TRUE(switch_openblas_kernels(before.kernels));
  expect_sgemm_correct();
  EXPECT_EQ(blas_kernels().kernels, before.kernels);
}

TEST(BlasKernels, UsersCoretypeIsRespected) {
  const BlasKernels before = blas_kernels();
  if (before.library.find("DYNAMIC_ARCH") == std::string::npos) GTEST_SKIP() << "OpenBLAS without DYNAMIC_ARCH";
  const char* had = std::getenv("OPENBLAS_CORETYPE");
  const std::string saved = had ? had : "";
  ASSERT_TRUE(switch_openblas_kernels("Prescott"));
  setenv("OPENBLAS_CORETYPE", "Prescott", 1);  // as if the user had set it before starting
  const BlasKernels k = use_best_blas_kernels();
  EXPECT_EQ(k.kernels, "Prescott");
  EXPECT_EQ(k.chosen_by, "OPENBLAS_CORETYPE");
  EXPECT_TRUE(k.replaced.empty());
  if (had) setenv("OPENBLAS_CORETYPE", saved.c_str(), 1);
  else unsetenv("OPENBLAS_CORETYPE");
  ASSERT_TRUE(switch_openblas_kernels(before.kernels));
}

TEST(BlasKernels, SummaryNamesLibraryKernelsAndWhoChose) {
  BlasKernels k{"OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH NO_AFFINITY Prescott MAX_THREADS=64", "SkylakeX", "SkylakeX",
                "CPU features", "Prescott"};
  EXPECT_EQ(k.str(), "OpenBLAS 0.3.21 (DYNAMIC_ARCH), kernels SkylakeX (chosen by CPU features; replaced Prescott)");
  k = {"OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH", "Prescott", "SkylakeX", "OPENBLAS_CORETYPE", ""};
  EXPECT_EQ(k.str(), "OpenBLAS 0.3.21 (DYNAMIC_ARCH), kernels Prescott (chosen by OPENBLAS_CORETYPE; best for this CPU: SkylakeX)");
}

}  // namespace
}  // namespace gg
