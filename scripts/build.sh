#!/usr/bin/env bash
# Configures and builds the CPU release build in build/release (incremental).
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS="${JOBS:-$(nproc)}"
cmake --preset release >/dev/null
cmake --build build/release -j"$JOBS"
