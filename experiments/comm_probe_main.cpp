// gg_comm_probe: times single communication operations of the engine's communicator, for checking a
// simulated platform against the alpha-beta formula (scripts/smpi_alpha_beta.py) or a real network.
//
//   smpirun ... gg_comm_probe --bytes 104857600 [--reps 3] [--stride 1] [--iallreduce ring]
//
// Prints, on rank 0, one line per operation with the slowest rank's time (MPI_Wtime: simulated time
// under SMPI), minimum over --reps:
//   pair      ranks r and r^stride (--stride, default 1) exchange --bytes at once (both directions)
//   allreduce blocking allreduce_sum of --bytes (MPI_Allreduce; collective chosen by the MPI library)
//   iallreduce nonblocking allreduce waited at once (MPI_Iallreduce, or the engine's own schedule
//             with --iallreduce ring: algorithms/iallreduce.hpp, as allreduce SGD runs it)
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "algorithms/iallreduce.hpp"
#include "core/comm/mpi_communicator.hpp"
#include "core/comm/mpi_session.hpp"

namespace {

template <class F>
double slowest(gg::Communicator& c, int reps, F&& op) {
  double best = 1e300;
  for (int r = 0; r < reps; ++r) {
    c.barrier();
    const double t0 = c.wtime();
    op();
    std::vector<double> t{c.wtime() - t0};
    std::vector<double> all(std::size_t(c.size()));
    c.gather(t.data(), sizeof(double), all.data(), 0);
    if (c.rank() == 0) best = std::min(best, *std::max_element(all.begin(), all.end()));
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  gg::MpiSession session(&argc, &argv);
  gg::MpiCommunicator comm;
  std::size_t bytes = 1 << 20;
  int reps = 3, stride = 1;
  bool ring = false;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--bytes") bytes = std::strtoull(argv[i + 1], nullptr, 10);
    else if (a == "--reps") reps = std::atoi(argv[i + 1]);
    else if (a == "--stride") stride = std::atoi(argv[i + 1]);
    else if (a == "--iallreduce" && std::string(argv[i + 1]) == "ring") ring = true;
  }
  gg::Iallreduce iallreduce(comm, ring);
  const int p = comm.size(), r = comm.rank();
  std::vector<float> a(bytes / sizeof(float), 1.0f), b(a.size());
  iallreduce.plan(std::vector<std::size_t>{a.size()});
  const bool pairs = stride > 0 && (r ^ stride) < p && p % (2 * stride) == 0;
  const double pair = !pairs ? -1 : slowest(comm, reps, [&] {
    const int peer = r ^ stride;
    gg::Request rx = comm.irecv(b.data(), a.size() * sizeof(float), peer, 7);
    gg::Request tx = comm.isend(a.data(), a.size() * sizeof(float), peer, 7);
    rx.wait();
    tx.wait();
  });
  const double ar = slowest(comm, reps, [&] { comm.allreduce_sum(a); });
  const double iar = slowest(comm, reps, [&] { iallreduce.start(0, a).wait(); });
  // Correctness of the nonblocking allreduce: a[i] = rank + i % 7 sums to p (p-1) / 2 + p (i % 7).
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = float(r) + float(i % 7);
  iallreduce.start(0, a).wait();
  std::size_t wrong = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    wrong += a[i] != float(p) * float(p - 1) / 2 + float(p) * float(i % 7);
  std::vector<double> bad{double(wrong)};
  comm.allreduce_sum(bad);
  if (r == 0) {
    std::printf("iallreduce_check %s\n", bad[0] == 0 ? "ok" : "FAILED");
    std::printf("probe p=%d bytes=%zu stride=%d\n", p, a.size() * sizeof(float), stride);
    if (pair >= 0) std::printf("pair %.9g\n", pair);
    std::printf("allreduce %.9g\niallreduce %.9g\n", ar, iar);
  }
  return 0;
}
