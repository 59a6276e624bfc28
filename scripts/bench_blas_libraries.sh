#!/usr/bin/env bash
# sgemm at the engine's layer shapes under each BLAS installed here, in one run: OpenBLAS with the
# kernels it picks and with each kernel set forced (OPENBLAS_CORETYPE), and BLIS when Debian's
# libblis-openmp-dev is installed (it dispatches on CPU features itself). The engine links OpenBLAS and
# chooses its kernels from the CPU's features (core/blas/blas_kernels.hpp); this script is the
# evidence for that choice on a given machine. A benchmark, not a test.
#   bash scripts/bench_blas_libraries.sh [seconds per shape, default 0.5]
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-0.5}"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
src=experiments/bench/sgemm_shapes.cpp
ob_inc=/usr/include/x86_64-linux-gnu/openblas-pthread
g++ -O2 -std=c++20 -I"$ob_inc" "$src" -o "$out/openblas" -lopenblas
columns=()
run() {  # name, command...
  local name=$1; shift
  env OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 BLIS_NUM_THREADS=1 "$@" "$secs" | awk '{print $2}' >"$out/$name.col"
  columns+=("$name")
}
shapes=$("$out/openblas" 0.001 | awk '{print $1}')
run "OpenBLAS(own)" "$out/openblas"
for core in Cooperlake SkylakeX Haswell Zen Sandybridge Prescott; do
  run "$core" env OPENBLAS_CORETYPE=$core "$out/openblas"
done
blis_inc=/usr/include/x86_64-linux-gnu/blis-openmp
if [ -f "$blis_inc/cblas.h" ]; then
  g++ -O2 -std=c++20 -I"$blis_inc" "$src" -o "$out/blis" -L/usr/lib/x86_64-linux-gnu/blis-openmp \
    -Wl,-rpath,/usr/lib/x86_64-linux-gnu/blis-openmp -lblis -fopenmp
  run "BLIS" "$out/blis"
else
  echo "(BLIS not installed: apt-get install libblis-openmp-dev to compare it)"
fi
printf 'sgemm GFLOP/s, 1 thread, median (OpenBLAS picks %s here)\n' \
  "$(printf '#include <cblas.h>\n#include <stdio.h>\nint main(){puts(openblas_get_corename());}' |
     gcc -x c - -I"$ob_inc" -o "$out/core" -lopenblas && "$out/core")"
{ printf '%-12s' shape; printf ' %13s' "${columns[@]}"; echo
  paste <(echo "$shapes") $(for c in "${columns[@]}"; do echo "$out/$c.col"; done) |
    awk '{printf "%-12s", $1; for (i = 2; i <= NF; i++) printf " %13s", $i; print ""}'; }
