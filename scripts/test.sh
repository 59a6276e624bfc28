#!/usr/bin/env bash
# Sets up, builds and runs the whole test suite (unit, MPI with 2/4/8 ranks, CLI, the bad-input corpus,
# faults, fuzzing, plot scripts), then the sanitizer subset (scripts/test_asan.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
(cd build/release && ctest --output-on-failure -j"${CTEST_JOBS:-2}" --timeout 300)
bash scripts/test_asan.sh
