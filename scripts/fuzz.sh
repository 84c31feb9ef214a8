#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds every libFuzzer target in tests/fuzz with clang (ASan + UBSan) and runs each for a bounded
# time on its seed corpus. Usage: scripts/fuzz.sh [seconds-per-target] [target-regex]
# Exits non-zero if any target finds a crash; the reproducer is left in build/fuzz/artifacts/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
only=${2:-.}
# llvm-14 and lld-14: CMake picks llvm-ar-14, ld.lld-14 and friends for clang-14 when they are
# present and binutils when not; installing them makes the fuzz build the same on every machine.
scripts/install-deps.sh clang-14 libclang-rt-14-dev llvm-14 lld-14
cmake -S . -B build/fuzz -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_BUILD_TYPE=Debug \
      -DPARE_BUILD_TESTS=OFF -DPARE_BUILD_BENCHMARKS=OFF -DPARE_BUILD_EXAMPLES=OFF \
      -DPARE_BUILD_FUZZERS=ON >/dev/null
cmake --build build/fuzz -j"$(nproc)"
mkdir -p build/fuzz/artifacts
status=0
while read -r target globs; do
  [[ -z "$target" || "$target" == \#* ]] && continue
  [[ "$target" =~ $only ]] || continue
  corpus="build/fuzz/corpus/$target"
  mkdir -p "$corpus"
  for g in $globs; do for f in $g; do [ -f "$f" ] && cp -n "$f" "$corpus/"; done; done
  echo "== fuzz: $target for ${seconds}s =="
  if ! build/fuzz/tests/fuzz/"$target" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
       -artifact_prefix=build/fuzz/artifacts/"$target"- -print_final_stats=1 "$corpus" \
       2> "build/fuzz/$target.log"; then
    status=1
    tail -40 "build/fuzz/$target.log"
  fi
  grep -E "stat::number_of_executed_units|Done [0-9]+ runs" "build/fuzz/$target.log" | tail -2 || true
done < tests/fuzz/seeds.txt
exit $status
