#!/usr/bin/env bash
# Sets up, builds and runs the whole test suite (unit, MPI with 2/4/8 ranks, plot scripts).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
cd build/release
ctest --output-on-failure -j"${CTEST_JOBS:-2}" --timeout 300
