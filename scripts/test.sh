#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds and runs every test twice: under AddressSanitizer + UBSan (dev preset, Debug) and
# optimized (release preset, -O3 -march=native, which also builds and smoke-runs the benchmarks).
# Between the two, every file reader's libFuzzer target runs briefly (PARE_FUZZ_SECONDS each).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
jobs=$(nproc)
run_preset() {
  echo "== pare: $1 build =="
  cmake --preset "$1" >/dev/null
  cmake --build --preset "$1" -j"$jobs"
  ctest --preset "$1" -j"$jobs"
}
run_preset dev
echo "== pare: fuzz smoke =="
scripts/fuzz.sh "${PARE_FUZZ_SECONDS:-10}"
run_preset release
