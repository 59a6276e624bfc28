#pragma once
// Testing MPI requests for completion without blocking: MPI_Testall on real MPI. Under SimGrid SMPI
// (3.32, Debian 12) a request completed by MPI_Test stays for the rest of the run in its rank's list of
// activities, which every later completion seen by a *waiting* rank scans: a run that polls its
// exchanges (the engine's nonblocking allreduce advances only inside test()) gets slower with the
// square of its steps (128 ranks x 100 steps of allreduce: 62% of the simulator's time in that scan).
// Only completions seen by a wait leave the list. So under SMPI a test is a wait that cannot block: the
// request is waited on together with a sentinel, a zero-byte message the rank sends itself on
// MPI_COMM_SELF, which completes at once: every platform gives a host a loopback link of zero latency
// and 1e24 B/s, so SMPI's 16-byte envelope takes no simulated time (below the clock's resolution).
// MPI_Waitany returns the request if it had completed, else the sentinel. The sentinel is a synchronous
// send (MPI_Issend): SMPI "detaches" a standard send below 64 KiB (eager), which puts it on one
// simulation-wide list that every completion of a detached message scans, so with a standard send
// every test cost a scan of every eager message in flight in the whole simulation (256 ranks x 10
// steps of stale allreduce on 10 GbE: 61-62 s -> 35-39 s of CPU, logs bitwise equal).
// Measured: per-step logs bitwise equal to MPI_Test's for every algorithm (tests/smpi/smpi_smoke.py
// checks it); 128 ranks x 100 steps of allreduce 250 s -> 118 s of simulator time on a loaded 2-core
// VM. A loop that only tests (never waits or computes) would not let simulated time pass, with or
// without the sentinel.
#include <mpi.h>

namespace gg {

// Sets *done to 1 and every request to MPI_REQUEST_NULL if all n completed; otherwise *done = 0, and
// requests found complete are MPI_REQUEST_NULL (the rest unchanged). Returns an MPI error code.
int test_requests(int n, MPI_Request* reqs, int* done);
// SMPI builds use the sentinel unless the environment variable GG_SMPI_PLAIN_TEST=1 (for comparisons:
// run_smpi.py --no-speedups).

}  // namespace gg
