/* Preloaded into SMPI runs by the simulated-cluster runner (ggbench/smpi.py smpi_env); built by the smpi
 * preset only (experiments/CMakeLists.txt), with the host C compiler, not smpicc.
 *
 * SimGrid 3.32 benchmarks the application's own computation between MPI calls: every MPI call reads
 * CLOCK_THREAD_CPUTIME_ID twice (smpi_bench_end / smpi_bench_begin), and that clock is a real system call,
 * not a vDSO read. These runs never charge benchmarked computation (smpi/simulate-computation:no; compute
 * is injected from profiles), so the reads feed only the "actual computation" line of
 * smpi/display-timing, yet they cost a quarter of a 256-rank run's wall time on the development VM.
 * This shim answers CLOCK_THREAD_CPUTIME_ID from CLOCK_MONOTONIC (a vDSO read). All simulated ranks run
 * one after another on one thread and switch only inside MPI calls, so between a bench_begin and the
 * next bench_end the monotonic clock advances by what the rank's code took (plus any preemption by the
 * OS): the display line stays meaningful. Simulated time, and every number a run logs, do not depend on
 * it; tests/smpi/smpi_smoke.py checks that a run with and without the shim logs identical steps. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <time.h>

typedef int (*clock_gettime_fn)(clockid_t, struct timespec*);

int clock_gettime(clockid_t id, struct timespec* ts) {
  static clock_gettime_fn next;
  if (!next) next = (clock_gettime_fn)dlsym(RTLD_NEXT, "clock_gettime");
  return next(id == CLOCK_THREAD_CPUTIME_ID ? CLOCK_MONOTONIC : id, ts);
}
