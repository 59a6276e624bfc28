#!/usr/bin/env bash
# The GPU backend's verification on a GPU node, in parts:
#
#   scripts/gpu_check.sh OUT_DIR [--quick] [--parts LIST]   run the parts; results and logs go to OUT_DIR
#   scripts/gpu_check.sh --pack                             (on a development machine) build gg_gpu_check and
#                                                           gg_sweep_tests and copy them, with the non-CUDA
#                                                           libraries they link, to build/gpu-pack/
#
# Parts (LIST is comma-separated; default: all of them, in this order):
#   preflight   within seconds, what the node lacks: x86-64-v3 CPU, glibc >= 2.34, a libstdc++ with
#               GLIBCXX_3.4.29, the NVIDIA driver (>= 580 for the CUDA 13 runtime) and a GPU, every library
#               the binaries load (libcudart/cublas/cublasLt/cudnn and its sub-libraries/nccl/libz), Python
#               with torch + torchvision; records every version (OUT_DIR/preflight.json)
#   layers      gg_gpu_check runtime + layers: not-ready queries, every layer GPU vs CPU in FP32 (1e-4) and
#               TF32 (1e-2) per parameter range, loss and SGD; and the GPU unit tests (CudaBackend*)
#   train       lenet trained on CPU and GPU (device-resident and host-staged): first losses and parameters
#               after 10 steps within FP32-reordering tolerances, accuracy
#   nccl        the NCCL communicator at size 1, ordered behind a queued slow kernel
#   throughput  ResNet-50/GoogLeNet images/s at batch 32/64/128 (quick: 32), FP32 and TF32, kernel-time shares
#   profile     per-layer profiles, named after the GPU (OUT_DIR/<model>_<gpu>.json)
#   sweep       every algorithm's invariants with GPU-hosted ranks (gg_sweep_tests, GpuSweep, 336 cases);
#               GG_GPU_SWEEP_ALLOCATIONS=report turns its per-step zero-allocation expectation into a report
#               (the other invariants still count) should cuDNN allocate per call past the exclusion
#   baseline    PyTorch's torchvision models on the same GPU (scripts/gpu_torch_baseline.py), then the ratios
# --quick runs the correctness parts (preflight,layers,train,nccl,sweep) with fewer steps: under 3 minutes
# on a GPU is the target. --quick with --parts: those parts, with fewer steps.
#
# Every part runs under its own timeout (GG_TIMEOUT_<PART>=seconds overrides; defaults below), prints its
# elapsed time and appends its result to OUT_DIR/parts.jsonl as soon as it ends; gg_gpu_check rewrites
# OUT_DIR/gpu_check.json after each of its parts. On a node with a GPU a skipped part or test counts as a
# failure. The engine's binaries get LD_LIBRARY_PATH (pack lib/, the toolkit, the nvidia wheels) on their
# own command lines only; PyTorch runs in the caller's environment (its wheels find their own libraries).
#
# Exit status: 0 every part passed; 1 a part failed or timed out; 2 bad arguments or no pack; 77 no GPU on
# this node (a clean skip: the preflight still says what else the node lacks).
#
# A GPU node typically has PyTorch (pip's cuDNN/NCCL/cuBLAS wheels) and maybe the CUDA toolkit but none
# of Debian's -dev packages, so the engine cannot be built there: build/gpu-pack is built on a development
# machine (--pack) and copied to the node. The CUDA libraries come from the node.
set -uo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PACK="$ROOT/build/gpu-pack"
ALL_PARTS="preflight,layers,train,nccl,throughput,profile,sweep,baseline"
QUICK_PARTS="preflight,layers,train,nccl,sweep"

if [[ "${1:-}" == "--pack" ]]; then
  set -e
  # Its own build folder, for a portable CPU target: x86-64-v3 (AVX2, no AVX-512) instead of this
  # machine's -march=native, so that the binaries run on the GPU node's host CPU (no SIGILL).
  BUILD="$ROOT/build/gpu-pack-build"
  # RUNPATH: the pack's lib/ first ($ORIGIN/lib), wherever the pack is unpacked.
  cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DGG_CUDA=ON -DGG_MARCH=x86-64-v3 \
        -DGG_BUILD_TESTS=ON -DGG_BUILD_BENCH=OFF '-DCMAKE_BUILD_RPATH=$ORIGIN/lib' >/dev/null
  cmake --build "$BUILD" --target gg_gpu_check gg_sweep_tests -j"${GG_PACK_JOBS:-$(nproc)}"
  rm -rf "$PACK" && mkdir -p "$PACK/lib"
  cp "$BUILD/experiments/gg_gpu_check" "$BUILD/tests/sweep/gg_sweep_tests" "$PACK/"
  # Libraries outside the base system and outside CUDA (those the node provides; CUPTI travels, 4 MiB,
  # as a node's PyTorch may not carry it). glibc's parts (libutil, libresolv, ...) and libz stay the node's.
  ldd "$PACK/gg_gpu_check" "$PACK/gg_sweep_tests" | awk '/=> \//{print $3}' | sort -u | while read -r lib; do
    case "$(basename "$lib")" in
      libc.so*|libm.so*|libdl.so*|libpthread.so*|librt.so*|libutil*|libresolv*|libnsl*|libanl*|ld-linux*) ;;
      libstdc++*|libgcc_s*|libz.so*) ;;
      libcuda*|libcublas*|libcudnn*|libnccl*|libcudart*|libnvrtc*|libnvJitLink*) ;;
      *) cp -L "$lib" "$PACK/lib/" ;;
    esac
  done
  for b in "$PACK/gg_gpu_check" "$PACK/gg_sweep_tests"; do
    echo "gpu_check --pack: $(basename "$b") RUNPATH: $(readelf -d "$b" | sed -n 's/.*R\(UN\)\?PATH.*\[\(.*\)\]/\2/p')"
  done
  # Portability: the engine's own code must hold no AVX-512 (zmm) instruction.
  for b in "$PACK/gg_gpu_check" "$PACK/gg_sweep_tests"; do
    zmm=$(objdump -d --no-show-raw-insn "$b" | grep -c '%zmm' || true)
    echo "gpu_check --pack: $(basename "$b"): $(du -h "$b" | cut -f1), AVX-512 instructions: $zmm"
    [[ "$zmm" == 0 ]] || { echo "gpu_check --pack: $b uses AVX-512: it would die with SIGILL on many GPU nodes"; exit 1; }
  done
  ls -l "$PACK/lib" | awk 'NR > 1 {print "  lib/" $NF " " $5}'
  du -sh "$PACK"
  exit 0
fi

usage() { echo "usage: scripts/gpu_check.sh OUT_DIR [--quick] [--parts $ALL_PARTS] | --pack" >&2; exit 2; }
[[ $# -ge 1 && "${1:0:1}" != "-" ]] || usage
OUT="$1"
shift
QUICK="" PARTS=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) QUICK="--quick" ;;
    --parts) [[ $# -ge 2 ]] || usage; PARTS="$2"; shift ;;
    *) usage ;;
  esac
  shift
done
[[ -n "$PARTS" ]] || { [[ -n "$QUICK" ]] && PARTS="$QUICK_PARTS" || PARTS="$ALL_PARTS"; }
for p in ${PARTS//,/ }; do [[ ",$ALL_PARTS," == *",$p,"* ]] || { echo "gpu_check: unknown part '$p'" >&2; usage; }; done
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
rm -f "$OUT/gpu_check.json" "$OUT/parts.jsonl"
PY="${PYTHON:-$(command -v python3 || echo python3)}"
T0=$(date +%s)

# The engine's binaries: the pack, else a development build (never built here: the node lacks the
# engine's -dev dependencies, see cmake/cuda.cmake).
# GG_GPU_CHECK_BIN / GG_SWEEP_BIN name other builds (the script's own test does).
BIN="${GG_GPU_CHECK_BIN:-}" SWEEP="${GG_SWEEP_BIN:-}"
for cand in "$PACK/gg_gpu_check" "$ROOT/build/release/experiments/gg_gpu_check"; do
  [[ -z "$BIN" && -x "$cand" ]] && BIN="$cand"
done
for cand in "$PACK/gg_sweep_tests" "$ROOT/build/release/tests/sweep/gg_sweep_tests"; do
  [[ -z "$SWEEP" && -x "$cand" ]] && SWEEP="$cand"
done
if [[ ! -x "$BIN" || ! -x "$SWEEP" ]]; then
  echo "gpu_check: no build/gpu-pack here ($PACK): run 'scripts/gpu_check.sh --pack' on a development machine and" \
       "copy build/gpu-pack to this node (a node without the engine's -dev packages cannot build it)"
  exit 2
fi

# CUDA libraries for the engine only: the pack's lib/, the toolkit, then every lib folder of the nvidia
# wheels beside the Python that has torch (both the cu12 and the cu13 layouts).
NV_LIBS="$("$PY" - <<'PYEOF' 2>/dev/null || true
import glob, os, site
dirs = []
for sp in site.getsitepackages() + [site.getusersitepackages()]:
    dirs += sorted(glob.glob(os.path.join(sp, "nvidia", "**", "lib"), recursive=True))
print(":".join(dirs))
PYEOF
)"
ENGINE_LD="$PACK/lib:/usr/local/cuda/lib64${NV_LIBS:+:$NV_LIBS}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
engine() { LD_LIBRARY_PATH="$ENGINE_LD" OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 "$@"; }

# A GPU on this node (then a skip is a failure).
GPU_PRESENT=0
if command -v nvidia-smi >/dev/null && nvidia-smi -L 2>/dev/null | grep -q '^GPU '; then GPU_PRESENT=1; fi

json_str() { local s="${1//\\/\\\\}"; s="${s//\"/\\\"}"; s="${s//$'\t'/ }"; printf '"%s"' "${s//$'\n'/\\n}"; }
ver_ge() { [[ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" == "$2" ]]; }  # $1 >= $2

# ---- preflight -------------------------------------------------------------------------------------
preflight() {
  local lack=() warn=() rec=()
  say() { echo "preflight: $*"; }
  add() { rec+=("$(json_str "$1"): $(json_str "$2")"); }
  local arch; arch="$(uname -m)"
  add arch "$arch"
  if [[ "$arch" != x86_64 ]]; then lack+=("an x86-64 CPU (this is $arch)"); fi
  local flags; flags="$(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null || true)"
  local f miss=""
  for f in avx2 fma bmi2 movbe; do [[ " $flags " == *" $f "* ]] || miss+=" $f"; done
  if [[ -n "$miss" ]]; then lack+=("x86-64-v3 CPU features (missing:$miss)"); fi
  say "CPU $arch, x86-64-v3 ${miss:+NOT }available${miss:+ (missing:$miss)}"
  local glibc; glibc="$(getconf GNU_LIBC_VERSION 2>/dev/null | awk '{print $2}')"
  add glibc "${glibc:-unknown}"
  if [[ -z "$glibc" ]] || ! ver_ge "$glibc" 2.34; then lack+=("glibc >= 2.34 (have ${glibc:-unknown})"); fi
  local stdcxx; stdcxx="$(ldconfig -p 2>/dev/null | awk '/libstdc\+\+\.so\.6 .*x86-64/{print $NF; exit}')"
  local glibcxx="none"
  if [[ -n "$stdcxx" && -r "$stdcxx" ]]; then
    glibcxx="$(grep -ao 'GLIBCXX_3\.4\.[0-9]*' "$stdcxx" | sort -uV | tail -n1)"
    grep -aq 'CXXABI_1\.3\.13' "$stdcxx" || lack+=("CXXABI_1.3.13 in $stdcxx")
  fi
  add libstdcxx "${stdcxx:-not found}"
  add glibcxx_max "$glibcxx"
  if [[ "$glibcxx" == none ]] || ! ver_ge "${glibcxx#GLIBCXX_}" 3.4.29; then
    lack+=("a libstdc++.so.6 with GLIBCXX_3.4.29 (have ${stdcxx:-none}: ${glibcxx})")
  fi
  say "glibc ${glibc:-unknown}, libstdc++ ${stdcxx:-not found} (up to $glibcxx)"
  if command -v nvidia-smi >/dev/null; then
    local smi; smi="$(timeout 20 nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 || true)"
    echo "$smi" >"$OUT/nvidia-smi.txt"
    add nvidia_smi "$smi"
    local driver; driver="$(echo "$smi" | head -n1 | awk -F', ' '{print $2}')"
    say "nvidia-smi: ${smi:-no output}"
    if [[ "$GPU_PRESENT" != 1 ]]; then lack+=("a GPU (nvidia-smi lists none)"); fi
    if [[ -n "$driver" ]] && ! ver_ge "$driver" 580; then lack+=("an NVIDIA driver >= 580 for the CUDA 13 runtime (have $driver)"); fi
  else
    add nvidia_smi "not found"
    lack+=("a GPU and its driver (no nvidia-smi)")
    say "nvidia-smi: not found"
  fi
  # Every library the binaries load, resolved with the engine's LD_LIBRARY_PATH.
  local b missing resolved
  for b in "$BIN" "$SWEEP"; do
    missing="$(engine ldd "$b" 2>&1 | awk '/not found/{print $1}' | sort -u | tr '\n' ' ')"
    [[ -z "$missing" ]] || lack+=("libraries for $(basename "$b"): ${missing% }")
  done
  resolved="$(engine ldd "$BIN" "$SWEEP" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// {print $1 " " $3}' | sort -u)"
  local lib path cudnn_dir=""
  for lib in libcudart.so libcublas.so libcublasLt.so libcudnn.so libnccl.so libcupti.so libopenblas.so libstdc++.so libc.so; do
    path="$(echo "$resolved" | awk -v l="$lib" 'index($1, l) == 1 {print $2; exit}')"
    add "path_${lib%.so}" "$([[ -n "$path" ]] && readlink -f "$path" || echo "not found")"
    [[ -n "$path" ]] && say "$lib -> $(readlink -f "$path")"
    [[ "$lib" == libcudnn.so && -n "$path" ]] && cudnn_dir="$(dirname "$(readlink -f "$path")")"
  done
  # cuDNN 9 opens its sub-libraries at run time (ldd cannot see them); they need libz.so.1.
  if [[ -n "$cudnn_dir" ]]; then
    local sub
    for sub in ops cnn graph heuristic engines_precompiled engines_runtime_compiled; do
      ls "$cudnn_dir"/libcudnn_"$sub".so* >/dev/null 2>&1 || lack+=("libcudnn_$sub.so.9 beside $cudnn_dir/libcudnn.so.9")
    done
  fi
  if ! ldconfig -p 2>/dev/null | grep -q 'libz\.so\.1 ' && ! ls ${ENGINE_LD//:/\/libz.so.1 }/libz.so.1 >/dev/null 2>&1; then
    lack+=("libz.so.1 (cuDNN's sub-libraries need it)")
  fi
  # Versions as loaded (works without a GPU; fails if a library is missing).
  local versions; versions="$(engine timeout 30 "$BIN" --versions 2>&1 | tail -n1)"
  if [[ "$versions" == "{"* ]]; then
    rec+=("\"engine_versions\": $versions")
    say "engine loads: $versions"
    local drv rt
    drv="$(echo "$versions" | sed -n 's/.*"cuda_driver":\([0-9]*\).*/\1/p')"
    rt="$(echo "$versions" | sed -n 's/.*"cuda_runtime":\([0-9]*\).*/\1/p')"
    if [[ "$drv" == 0 ]]; then
      lack+=("a loadable CUDA driver (libcuda.so.1): the CUDA runtime $rt finds none")
    elif [[ -n "$drv" && -n "$rt" && "$drv" -lt "$rt" ]]; then
      lack+=("a driver supporting CUDA runtime $rt (the driver supports CUDA $drv: update the driver to R580 or newer)")
    fi
  else
    add engine_versions "$versions"
    lack+=("a loadable gg_gpu_check (--versions said: $versions)")
  fi
  # Python with torch, in the caller's environment (no engine LD_LIBRARY_PATH).
  local torch_info
  torch_info="$(timeout 120 "$PY" -c '
import json, torch, torchvision
d = {"python": __import__("sys").version.split()[0], "torch": torch.__version__, "torchvision": torchvision.__version__,
     "torch_cuda": torch.version.cuda, "cudnn": torch.backends.cudnn.version(), "cuda_available": torch.cuda.is_available()}
try:
    d["nccl"] = ".".join(map(str, torch.cuda.nccl.version()))
except Exception as e:
    d["nccl"] = None
d["device"] = torch.cuda.get_device_name(0) if d["cuda_available"] else None
print(json.dumps(d))' 2>&1 | tail -n1)"
  if [[ "$torch_info" == "{"* ]]; then
    rec+=("\"torch\": $torch_info")
    say "$PY: $torch_info"
    [[ "$torch_info" == *'"cuda_available": true'* ]] || lack+=("a GPU visible to PyTorch ($PY)")
  else
    add torch "$torch_info"
    lack+=("Python with torch and torchvision ($PY: $torch_info)")
    say "$PY: no torch/torchvision: $torch_info"
  fi
  local joined="" l
  for l in "${lack[@]}"; do joined+="${joined:+, }$(json_str "$l")"; done
  { echo "{"; local r; for r in "${rec[@]}"; do echo "  $r,"; done; echo "  \"lacks\": [${joined}]"; echo "}"; } \
    >"$OUT/preflight.json"
  if [[ ${#lack[@]} -eq 0 ]]; then
    say "nothing lacking"
    return 0
  fi
  say "THE NODE LACKS:"
  for l in "${lack[@]}"; do echo "preflight:   - $l"; done
  return 1
}

# ---- the parts -------------------------------------------------------------------------------------
fail_on_skip() {  # a GPU test that skipped on a node with a GPU is a failure; without a GPU, a skip (77)
  local log="$1" rc="$2"
  if grep -q '\[  SKIPPED \]' "$log"; then
    if [[ "$GPU_PRESENT" == 1 ]]; then echo "gpu_check: tests skipped on a node with a GPU"; return 1; fi
    [[ "$rc" == 0 ]] && return 77
  fi
  return "$rc"
}
part_layers() {
  engine "$BIN" --out "$OUT" --parts runtime,layers $QUICK
  local rc=$?
  echo "gpu_check: the GPU unit tests (CudaBackend*, tests/unit/test_cuda_backend.cpp)"
  engine "$SWEEP" --gtest_filter='CudaBackend*' --gtest_output="json:$OUT/cuda_unit_tests.json" >"$OUT/cuda_unit_tests.log" 2>&1
  local urc=$?
  grep -E '^\[ *(OK|FAILED|SKIPPED|PASSED) *\]' "$OUT/cuda_unit_tests.log" | tail -n 12
  fail_on_skip "$OUT/cuda_unit_tests.log" "$urc"
  urc=$?
  [[ $rc -ne 0 ]] && return $rc
  return $urc
}
part_sweep() {
  engine "$SWEEP" --gtest_filter='*GpuSweep*' --gtest_brief=1 --gtest_output="json:$OUT/gpu_sweep.json" \
    >"$OUT/gpu_sweep.log" 2>&1
  local rc=$?
  grep -E '^\[ *(FAILED|PASSED|SKIPPED) *\]' "$OUT/gpu_sweep.log" | tail -n 5
  fail_on_skip "$OUT/gpu_sweep.log" "$rc"
}
part_baseline() {
  # The caller's environment: LD_LIBRARY_PATH as the caller had it (never the engine's).
  "$PY" "$ROOT/scripts/gpu_torch_baseline.py" --out "$OUT/torch.json" $QUICK || return $?
  "$PY" - "$OUT" <<'PYEOF'
import json, os, sys
out = sys.argv[1]
try:
    ours = json.load(open(os.path.join(out, "gpu_check.json")))["throughput"]
    ref = json.load(open(os.path.join(out, "torch.json")))
except (OSError, KeyError, ValueError) as e:
    sys.exit(f"gpu_check: no ratio table ({e}; run the throughput part first)")
key = lambda r: (r["model"], r["batch"], r["math"])
torch_by = {key(r): r for r in ref["throughput"]}
print(f"ratio table ({ref.get('device')}; torch {ref.get('torch')}, precision {ref.get('precision_api')}):")
print("model      batch math  engine img/s  torch img/s (layout)        ratio  cuDNN/cuBLAS share")
for r in ours:
    if "images_per_s" not in r:
        print(f"{r.get('case', '?')}: {r.get('error', 'no figure')}")
        continue
    t = torch_by.get(key(r))
    share = r.get("kernel_time", {}).get("library_share")
    share = f"{100 * share:.1f}%" if share is not None else "not measured"
    if t:
        print(f"{r['model']:10s} {r['batch']:5d} {r['math']:5s} {r['images_per_s']:12.1f} {t['images_per_s']:12.1f}"
              f" ({t.get('layout', '?'):13s})  {r['images_per_s'] / t['images_per_s']:.2f}   {share}")
print("GoogLeNet: torchvision's has batch norm and no LRN (not the engine's Caffe network): indicative only.")
print("Engine-side costs in the ratio: legacy NHWC spatial batch norm, a 1 GiB workspace cap, cuBLAS pedantic "
      "math in FP32, a host sync for the loss every step; the engine rows are device-resident (gg_train's "
      "host-staged runs are slower).")
PYEOF
}
run_one() {
  case "$1" in
    preflight) preflight ;;
    layers) part_layers ;;
    train) engine "$BIN" --out "$OUT" --parts training $QUICK ;;
    nccl) engine "$BIN" --out "$OUT" --parts nccl $QUICK ;;
    throughput) engine "$BIN" --out "$OUT" --parts throughput $QUICK ;;
    profile) engine "$BIN" --out "$OUT" --parts profile $QUICK ;;
    sweep) part_sweep ;;
    baseline) part_baseline ;;
  esac
}
default_timeout() {
  local q=0; [[ -n "$QUICK" ]] && q=1
  case "$1" in
    preflight) echo 150 ;;
    layers) echo $((q ? 90 : 120)) ;;
    train) echo $((q ? 90 : 150)) ;;
    nccl) echo 60 ;;
    throughput) echo $((q ? 150 : 330)) ;;
    profile) echo $((q ? 90 : 150)) ;;
    sweep) echo $((q ? 150 : 180)) ;;
    baseline) echo $((q ? 120 : 240)) ;;
  esac
}
export -f preflight part_layers part_sweep part_baseline run_one engine fail_on_skip json_str ver_ge 2>/dev/null
export OUT BIN SWEEP PY ENGINE_LD QUICK GPU_PRESENT ROOT
[[ -n "${GG_GPU_SWEEP_ALLOCATIONS:-}" ]] && export GG_GPU_SWEEP_ALLOCATIONS

FAILED=() SKIPPED=()
for part in ${PARTS//,/ }; do
  var="GG_TIMEOUT_${part^^}"
  limit="${!var:-$(default_timeout "$part")}"
  echo "gpu_check: part $part (timeout ${limit} s)"
  t0=$(date +%s%N)
  if [[ "$part" == preflight ]]; then
    # In this shell (a function; bounded by its own per-command timeouts).
    preflight 2>&1 | tee "$OUT/preflight.log"
    rc=${PIPESTATUS[0]}
  else
    timeout --kill-after=15 "$limit" bash -c "run_one $part" 2>&1 | tee "$OUT/$part.log"
    rc=${PIPESTATUS[0]}
  fi
  ms=$((($(date +%s%N) - t0) / 1000000))
  secs="$((ms / 1000)).$(((ms % 1000) / 100))"
  case $rc in
    0) status=pass ;;
    124|137) status=timeout ;;
    77) status=skip ;;
    *) status=fail ;;
  esac
  if [[ "$status" == skip && "$GPU_PRESENT" == 1 ]]; then status=fail; fi
  printf '{"part": "%s", "status": "%s", "rc": %d, "seconds": %s, "timeout_s": %d}\n' "$part" "$status" "$rc" \
    "$secs" "$limit" >>"$OUT/parts.jsonl"
  printf 'gpu_check: part %s: %s (rc %d, %s s)\n' "$part" "$status" "$rc" "$secs"
  case $status in
    pass) ;;
    skip) SKIPPED+=("$part") ;;
    *) FAILED+=("$part") ;;
  esac
done
written="$(cd "$OUT" && ls -d parts.jsonl preflight.json gpu_check.json torch.json *_h[0-9]*.json 2>/dev/null | tr '\n' ' ')"
echo "gpu_check: $(($(date +%s) - T0)) s in all; results in $OUT: ${written% }"
if [[ "$GPU_PRESENT" != 1 ]]; then
  echo "gpu_check: skipped: no GPU on this node (nvidia-smi $(command -v nvidia-smi >/dev/null && echo 'lists none' || echo 'not found')); nothing was measured${SKIPPED:+ (parts skipped: ${SKIPPED[*]})}${FAILED:+; parts failed: ${FAILED[*]} (see above: the preflight lists what the node lacks)}"
  exit 77
fi
if [[ ${#FAILED[@]} -gt 0 ]]; then
  echo "gpu_check: FAILED: ${FAILED[*]}"
  exit 1
fi
echo "gpu_check: every part passed"
exit 0
