#!/usr/bin/env bash
# The sanitizer job (scripts/test.sh runs it after the release suite): builds the asan preset's targets
# that the subset needs (AddressSanitizer + UBSan, engine at -O1) and runs under the sanitizers
#   - the unit tests: all of gg_unit_tests, leak checking on;
#   - the MPI tests gg_mpi_comm_tests (4 ranks) and gg_mpi_stall_tests (3 ranks);
#   - the whole bad-input corpus (tests/corpus) with the sanitized gg_train, 1-8 ranks.
# Under MPI, leak checking is off by default: Open MPI keeps what MPI_Init allocates until exit, some of it
# reachable only from components MPI_Finalize has unloaded, so LeakSanitizer cannot attribute it with its
# fast unwinder. GG_ASAN_LEAKS=1 checks leaks there too, with the slow unwinder and the suppressions in
# tests/sanitizers/lsan.supp (about four times slower). Every UBSan finding is fatal.
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS="${JOBS:-$(nproc)}"
cmake --preset asan >/dev/null
cmake --build build/asan -j"$JOBS" --target gg_unit_tests gg_train gg_mpi_comm_tests gg_mpi_stall_tests
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
echo "asan: unit tests"
ASAN_OPTIONS=detect_leaks=1 build/asan/tests/gg_unit_tests --gtest_brief=1
if [ "${GG_ASAN_LEAKS:-0}" = 1 ]; then
  export ASAN_OPTIONS=detect_leaks=1:fast_unwind_on_malloc=0:allocator_may_return_null=1
  export LSAN_OPTIONS=suppressions=$PWD/tests/sanitizers/lsan.supp:print_suppressions=0
else
  export ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=1
fi
echo "asan: MPI tests and the bad-input corpus"
cd build/asan
ctest --output-on-failure -j"${CTEST_JOBS:-2}" --timeout 600 -R '^(gg_mpi_comm_tests_np4|gg_mpi_stall_tests_np3|corpus_bad_input_[0-9]+)$'
