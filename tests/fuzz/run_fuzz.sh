#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (AddressSanitizer + UBSan) and runs them for a bounded time.
#   run_fuzz.sh build SOURCE_DIR OUT_DIR            compile fuzz_idx, fuzz_cifar, fuzz_config into OUT_DIR
#   run_fuzz.sh run SOURCE_DIR OUT_DIR TARGET SECONDS
# A run starts from the seed corpus (tests/fuzz/seeds/<kind>) plus what earlier runs kept in
# OUT_DIR/corpus/<kind>, and prints libFuzzer's final statistics (stat::number_of_executed_units ...).
# A finding (crash, sanitizer report, leak, timeout, out-of-memory) fails the run and leaves its input in
# OUT_DIR/findings/. Exit status 77 (ctest: skipped) when clang or its libFuzzer runtime is missing.
set -euo pipefail
mode=$1 src=$2 out=$3
CXX=${CLANGXX:-clang++}
FLAGS=(-std=c++20 -O1 -g -fno-omit-frame-pointer -I"$src")
SAN=address,undefined

skip() { echo "SKIPPED: $1"; exit 77; }

if [ "$mode" = build ]; then
  command -v "$CXX" >/dev/null || skip "$CXX not found (apt-get install clang)"
  mkdir -p "$out/obj"
  printf 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }\n' >"$out/probe.cpp"
  "$CXX" -fsanitize=fuzzer,$SAN "$out/probe.cpp" -o "$out/probe" 2>/dev/null ||
    skip "$CXX cannot link -fsanitize=fuzzer (the libFuzzer runtime: apt-get install libclang-rt-dev)"
  util=(core/util/memory.cpp core/util/message.cpp core/util/regular_file.cpp)
  # tensor.cpp allocates through core/cuda/runtime.hpp: the fuzzers link its CPU-only (absent) form.
  data=(core/data/file_bytes.cpp core/data/dataset.cpp core/data/normalize.cpp core/tensor/tensor.cpp
        core/cuda/absent/runtime.cpp)
  declare -A sources=(
    [fuzz_idx]="tests/fuzz/fuzz_idx.cpp core/data/idx_reader.cpp ${data[*]} ${util[*]}"
    [fuzz_cifar]="tests/fuzz/fuzz_cifar.cpp core/data/cifar_reader.cpp ${data[*]} ${util[*]}"
    [fuzz_config]="tests/fuzz/fuzz_config.cpp core/config/run_config.cpp core/config/json_reader.cpp core/sim/compute_noise.cpp ${util[*]}"
  )
  # Every source once, two at a time (again only if the source or any header is newer than its object:
  # objects compiled against older headers would link into a binary whose parts disagree); then one link
  # per target.
  stamp="$out/obj/.newest_header"
  touch -d "@$(find "$src/core" "$src/tests/fuzz" -name '*.hpp' -printf '%T@\n' | sort -n | tail -1)" "$stamp"
  printf '%s\n' ${sources[*]} | sort -u | xargs -P2 -I{} sh -c \
    'o="$0/obj/$(echo {} | tr / _).o"; [ "$o" -nt "$1/{}" ] && [ "$o" -nt "$2" ] || '"$CXX"' '"${FLAGS[*]}"' -fsanitize=fuzzer-no-link,'"$SAN"' -c "$1/{}" -o "$o"' "$out" "$src" "$stamp"
  for t in "${!sources[@]}"; do
    objs=()
    for s in ${sources[$t]}; do objs+=("$out/obj/$(echo "$s" | tr / _).o"); done
    "$CXX" -fsanitize=fuzzer,$SAN "${objs[@]}" -lz -o "$out/$t"
  done
  echo "built: ${!sources[*]}"
  exit 0
fi

target=$4 seconds=$5
[ -x "$out/$target" ] || skip "$out/$target was not built (clang or libFuzzer missing)"
kind=${target#fuzz_}
mkdir -p "$out/corpus/$kind" "$out/findings"
# detect_leaks: a leak is a finding too. -rss_limit_mb / -malloc_limit_mb: an input that makes a reader
# allocate more than 512 MiB (no valid input of these sizes needs it) is reported as out-of-memory.
export ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# -error_exitcode, -timeout_exitcode: libFuzzer's own defaults (77, 70) would read as "skipped" to ctest.
"$out/$target" -max_total_time="$seconds" -rss_limit_mb=2048 -malloc_limit_mb=512 -timeout=10 -max_len=16384 \
  -error_exitcode=1 -timeout_exitcode=1 \
  -print_final_stats=1 -artifact_prefix="$out/findings/$target-" "$out/corpus/$kind" "$src/tests/fuzz/seeds/$kind" 2>&1 |
  grep -E "^stat::|^#[0-9]+ +DONE|ERROR|SUMMARY|Test unit written|==[0-9]+==|WARNING|runtime error" | head -60
exit "${PIPESTATUS[0]}"
