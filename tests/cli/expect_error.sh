#!/usr/bin/env bash
# Runs a command that must fail on bad input: non-zero exit, exactly one "error:" line naming the
# problem (matched against NEEDLE), no output file left behind, and no hang (ctest's timeout).
#   expect_error.sh NEEDLE FORBIDDEN_PATH -- command...
set -u
needle="$1"; forbidden="$2"; shift 3
out=$(timeout 120 "$@" 2>&1); code=$?
echo "$out"
[ "$code" -ne 0 ] || { echo "FAIL: exit code 0"; exit 1; }
[ "$code" -ne 124 ] || { echo "FAIL: timed out (hang)"; exit 1; }
n=$(grep -c "error:" <<<"$out")
[ "$n" -eq 1 ] || { echo "FAIL: expected exactly one error line, got $n"; exit 1; }
grep -qF -- "$needle" <<<"$out" || { echo "FAIL: message does not contain '$needle'"; exit 1; }
if [ "$forbidden" != "-" ] && [ -e "$forbidden" ]; then echo "FAIL: $forbidden was written"; exit 1; fi
echo "ok: exit $code"
