// main() for the MPI GoogleTest executables: MPI up (MpiSession), tests run on every rank, only rank 0
// prints the full report; other ranks print just their failures, prefixed with their rank. The exit
// code of every rank is non-zero if any rank failed anything (a failure flag is allreduced at the end).
#include <gtest/gtest.h>

#include <cstdio>

#include "core/blas/blas_kernels.hpp"
#include "core/comm/mpi_communicator.hpp"
#include "core/comm/mpi_session.hpp"

namespace {

class RankFailurePrinter : public testing::EmptyTestEventListener {
 public:
  explicit RankFailurePrinter(int rank) : rank_(rank) {}
  void OnTestPartResult(const testing::TestPartResult& r) override {
    if (r.failed())
      std::fprintf(stderr, "[rank %d] %s:%d: failure\n%s\n", rank_, r.file_name() ? r.file_name() : "?",
                   r.line_number(), r.message());
  }

 private:
  int rank_;
};

}  // namespace

int main(int argc, char** argv) {
  gg::use_best_blas_kernels();  // the kernels gg_train runs (core/blas/blas_kernels.hpp)
  gg::MpiSession session(&argc, &argv);
  testing::InitGoogleTest(&argc, argv);
  int rank = 0, failed = 0;
  {
    gg::MpiCommunicator world;
    rank = world.rank();
    if (rank != 0) {
      auto& listeners = testing::UnitTest::GetInstance()->listeners();
      delete listeners.Release(listeners.default_result_printer());
      listeners.Append(new RankFailurePrinter(rank));
    }
    const int rc = RUN_ALL_TESTS();
    double flag = rc != 0 ? 1.0 : 0.0;
    world.allreduce_sum(std::span<double>(&flag, 1));
    failed = flag > 0 ? 1 : 0;
    if (rank == 0 && failed && rc == 0) std::fprintf(stderr, "[rank 0] another rank failed (see above)\n");
  }
  return failed;
}
