#!/usr/bin/env bash
# scripts/gpu_check.sh's own logic, on a machine without a GPU (ctest gpu_check_script):
#  1. a node whose nvidia-smi lists a GPU with an R550 driver (a stub): the preflight names the old
#     driver, and the parts that skip (no usable device) count as failures: exit 1;
#  2. no GPU at all: --quick ends in a clean skip, exit 77, with the reason;
#  3. bad arguments and a missing pack: exit 2 with the reason.
# usage: test_gpu_check_sh.sh GG_GPU_CHECK GG_SWEEP_TESTS
set -uo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
export GG_GPU_CHECK_BIN="$1" GG_SWEEP_BIN="$2"
export PYTHON="${PYTHON:-/usr/bin/python3}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
fails=0
check() { if eval "$2"; then echo "ok: $1"; else echo "FAIL: $1"; fails=$((fails + 1)); fi; }

if command -v nvidia-smi >/dev/null && nvidia-smi -L 2>/dev/null | grep -q '^GPU '; then
  echo "a real GPU is visible: cases 1 and 2 need a node without one"
else
  mkdir -p "$WORK/bin"
  cat >"$WORK/bin/nvidia-smi" <<'SMI'
#!/bin/sh
case "$*" in
  *-L*) echo "GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-00000000-0000-0000-0000-000000000000)" ;;
  *) echo "NVIDIA H100 80GB HBM3, 550.54.15, 81559 MiB" ;;
esac
SMI
  chmod +x "$WORK/bin/nvidia-smi"
  PATH="$WORK/bin:$PATH" bash "$ROOT/scripts/gpu_check.sh" "$WORK/old" --parts preflight,train,sweep >"$WORK/old.log" 2>&1
  rc=$?
  check "old driver: exit 1 (got $rc)" '[[ $rc == 1 ]]'
  check "old driver: the preflight names it" 'grep -q "driver >= 580 for the CUDA 13 runtime (have 550.54.15)" "$WORK/old.log"'
  check "old driver: preflight.json lists it" 'grep -q "have 550.54.15" "$WORK/old/preflight.json"'
  check "old driver: the skipped train part is a failure" 'grep -q "\"part\": \"train\", \"status\": \"fail\", \"rc\": 77" "$WORK/old/parts.jsonl"'
  check "old driver: the skipped sweep is a failure" 'grep -q "\"part\": \"sweep\", \"status\": \"fail\"" "$WORK/old/parts.jsonl"'
  check "old driver: every part wrote its line" '[[ $(wc -l <"$WORK/old/parts.jsonl") == 3 ]]'

  PATH="$(echo "$PATH" | tr ':' '\n' | grep -v "^$WORK/bin$" | paste -sd:)" \
    bash "$ROOT/scripts/gpu_check.sh" "$WORK/none" --quick >"$WORK/none.log" 2>&1
  rc=$?
  check "no GPU: --quick exits 77 (got $rc)" '[[ $rc == 77 ]]'
  check "no GPU: says so" 'grep -q "gpu_check: skipped: no GPU on this node" "$WORK/none.log"'
  check "no GPU: the preflight lists what is lacking" 'grep -q "preflight: THE NODE LACKS:" "$WORK/none.log"'
  check "no GPU: every quick part ran" '[[ $(wc -l <"$WORK/none/parts.jsonl") == 5 ]]'
fi

bash "$ROOT/scripts/gpu_check.sh" "$WORK/x" --parts layers,bogus >"$WORK/bad.log" 2>&1
rc=$?
check "unknown part: exit 2 (got $rc)" '[[ $rc == 2 ]] && grep -q "unknown part .bogus." "$WORK/bad.log"'
GG_GPU_CHECK_BIN=/nonexistent bash "$ROOT/scripts/gpu_check.sh" "$WORK/y" --quick >"$WORK/nopack.log" 2>&1
rc=$?
check "no pack: exit 2 (got $rc) and says how to get one" '[[ $rc == 2 ]] && grep -q "copy build/gpu-pack to this node" "$WORK/nopack.log"'
[[ $fails == 0 ]] && echo "test_gpu_check_sh: all checks passed" || echo "test_gpu_check_sh: $fails FAILED"
exit $((fails > 0))
