#!/usr/bin/env bash
# Sets up, builds and runs the whole test suite (unit, MPI with 2/4/8 ranks, CLI, faults, fuzzing, plot
# scripts, SMPI), then the sanitizer job (scripts/test_asan.sh: unit, MPI and the bad-input corpus).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
# The bad-input corpus runs once, in the sanitizer job (with the sanitized gg_train).
(cd build/release && ctest --output-on-failure -j"${CTEST_JOBS:-2}" --timeout 300 -LE corpus)
bash scripts/test_asan.sh
