// The unit and sweep tests' main: GoogleTest's, after making the BLAS kernels the ones gg_train runs
// (core/blas/blas_kernels.hpp), so that the suite passes on the kernels chosen.
#include <gtest/gtest.h>

#include "core/blas/blas_kernels.hpp"

int main(int argc, char** argv) {
  gg::use_best_blas_kernels();
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
