#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds and runs every test twice: under AddressSanitizer + UBSan (dev preset, Debug) and
# optimized (release preset, -O3 -march=native, which also builds and smoke-runs the benchmarks).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
jobs=$(nproc)
for preset in dev release; do
  echo "== pare: $preset build =="
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j"$jobs"
  ctest --preset "$preset" -j"$jobs"
done
