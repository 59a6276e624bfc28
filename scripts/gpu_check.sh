#!/usr/bin/env bash
# The GPU backend's whole verification in one command, for a GPU node (one H200 in this project's runs):
#
#   scripts/gpu_check.sh OUT_DIR [--quick]    run everything; results and logs go to OUT_DIR
#   scripts/gpu_check.sh --pack               (on a development machine) build gg_gpu_check and copy it,
#                                             with the non-CUDA libraries it links, to build/gpu-pack/
#
# A GPU node typically has nvcc, CMake and PyTorch (pip's cuDNN/NCCL/cuBLAS wheels) but none of Debian's
# -dev packages, so the engine's own dependencies (OpenBLAS, HDF5, Open MPI, nlohmann-json) cannot be
# built against there: the binary is built on a development machine (--pack, about 47 MiB) and carried.
# The CUDA libraries come from the node: /usr/local/cuda and the nvidia wheels next to PyTorch.
#
# Runs: gg_gpu_check (every layer GPU vs CPU, lenet GPU vs CPU training, the NCCL communicator, ResNet-50/
# GoogLeNet images/s at batch 32/64/128 in FP32 and TF32 with the share of time in cuDNN/cuBLAS kernels,
# per-layer H200 profiles), the algorithm sweep on GPU-hosted ranks (gg_sweep_tests, GpuSweep), then
# PyTorch's torchvision models on the same GPU (scripts/gpu_torch_baseline.py), then prints the ratio
# table. Exit status: gg_gpu_check's, else the sweep's.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PACK="$ROOT/build/gpu-pack"

if [[ "${1:-}" == "--pack" ]]; then
  # Its own build folder: x86-64-v3 (AVX2) instead of this machine's -march=native, so that the binary
  # runs on the GPU node's host CPU.
  BUILD="$ROOT/build/gpu-pack-build"
  cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DGG_CUDA=ON -DGG_MARCH=x86-64-v3 \
        -DGG_BUILD_TESTS=ON -DGG_BUILD_BENCH=OFF >/dev/null
  cmake --build "$BUILD" --target gg_gpu_check gg_sweep_tests -j"$(nproc)"
  rm -rf "$PACK" && mkdir -p "$PACK/lib"
  cp "$BUILD/experiments/gg_gpu_check" "$BUILD/tests/sweep/gg_sweep_tests" "$PACK/"
  # Libraries outside the base system and outside CUDA (those the node provides; CUPTI travels, 4 MiB,
  # as a node's PyTorch may not carry it).
  ldd "$PACK/gg_gpu_check" "$PACK/gg_sweep_tests" | awk '/=> \//{print $3}' | sort -u | while read -r lib; do
    case "$(basename "$lib")" in
      libc.so*|libm.so*|libdl.so*|libpthread.so*|librt.so*|ld-linux*|libstdc++*|libgcc_s*) ;;
      libcuda*|libcublas*|libcudnn*|libnccl*|libcudart*|libnvrtc*|libnvJitLink*) ;;
      *) cp -L "$lib" "$PACK/lib/" ;;
    esac
  done
  du -sh "$PACK"
  exit 0
fi

OUT="${1:?usage: scripts/gpu_check.sh OUT_DIR [--quick] | --pack}"
QUICK="${2:-}"
mkdir -p "$OUT"
PY="$(command -v python3)"
# CUDA libraries: the toolkit, then every lib folder of the nvidia wheels beside PyTorch.
NV_LIBS="$("$PY" - <<'PYEOF' 2>/dev/null || true
import glob, os, site
dirs = []
for sp in site.getsitepackages() + [site.getusersitepackages()]:
    dirs += sorted(glob.glob(os.path.join(sp, "nvidia", "**", "lib"), recursive=True))
print(":".join(dirs))
PYEOF
)"
export LD_LIBRARY_PATH="$PACK/lib:/usr/local/cuda/lib64:${NV_LIBS}:${LD_LIBRARY_PATH:-}"

BIN="" SWEEP=""
for dir in "$PACK" "$ROOT/build/release/experiments"; do
  [[ -x "$dir/gg_gpu_check" ]] && { BIN="$dir/gg_gpu_check"; break; }
done
for cand in "$PACK/gg_sweep_tests" "$ROOT/build/release/tests/sweep/gg_sweep_tests"; do
  [[ -x "$cand" ]] && { SWEEP="$cand"; break; }
done
if [[ -z "$BIN" ]]; then
  echo "gpu_check: no gg_gpu_check binary; building one (needs the engine's dependencies)" | tee "$OUT/build.log"
  (cmake --preset release -DGG_CUDA=ON && cmake --build "$ROOT/build/release" --target gg_gpu_check -j"$(nproc)") \
    >>"$OUT/build.log" 2>&1 || { echo "gpu_check: build failed (see $OUT/build.log); run --pack on a development machine and carry build/gpu-pack"; exit 2; }
  BIN="$ROOT/build/release/experiments/gg_gpu_check"
fi
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv >"$OUT/nvidia-smi.txt" 2>&1 || true
echo "gpu_check: $BIN"
set +e
"$BIN" --out "$OUT" $QUICK 2>&1 | tee "$OUT/gg_gpu_check.log"
RC=${PIPESTATUS[0]}
# Every algorithm's invariants (the in-process sweep of tests/sweep at p = 2, 3, 4) with each rank's
# model host-staged on this GPU: ranks as threads sharing it, as gg_train runs with train.device = cuda.
if [[ -n "$SWEEP" ]]; then
  echo "gpu_check: algorithm sweep on the GPU ($SWEEP)"
  OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 "$SWEEP" --gtest_filter='*GpuSweep*' --gtest_brief=1 \
    --gtest_output="json:$OUT/gpu_sweep.json" >"$OUT/gpu_sweep.log" 2>&1
  SWEEP_RC=$?
  tail -n 3 "$OUT/gpu_sweep.log"
  [[ $SWEEP_RC -ne 0 && $RC -eq 0 ]] && RC=$SWEEP_RC
else
  echo "gpu_check: no gg_sweep_tests binary: the algorithm sweep on the GPU did not run" | tee "$OUT/gpu_sweep.log"
  [[ $RC -eq 0 ]] && RC=1
fi
"$PY" "$ROOT/scripts/gpu_torch_baseline.py" --out "$OUT/torch.json" $QUICK 2>&1 | tee "$OUT/torch.log"
set -e
"$PY" - "$OUT" <<'PYEOF'
import json, os, sys
out = sys.argv[1]
try:
    ours = json.load(open(os.path.join(out, "gpu_check.json")))["throughput"]
    ref = json.load(open(os.path.join(out, "torch.json")))["throughput"]
except (OSError, KeyError, ValueError) as e:
    sys.exit(f"gpu_check: no ratio table ({e})")
key = lambda r: (r["model"], r["batch"], r["math"])
torch_by = {key(r): r for r in ref}
print("model      batch math  engine img/s  torch img/s  ratio  cuDNN/cuBLAS share")
for r in ours:
    t = torch_by.get(key(r))
    share = r.get("kernel_time", {}).get("library_share")
    share = f"{100 * share:.1f}%" if share is not None else "not measured"
    if t:
        print(f"{r['model']:10s} {r['batch']:5d} {r['math']:5s} {r['images_per_s']:12.1f} {t['images_per_s']:12.1f}"
              f"  {r['images_per_s'] / t['images_per_s']:.2f}   {share}")
PYEOF
exit "$RC"
