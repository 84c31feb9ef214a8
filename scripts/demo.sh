#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds pare's examples (release preset) and runs the end-to-end demo on the digits data set.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
# Its own build folder (release flags, tests and benchmarks off), so it never changes what
# scripts/test.sh's build/release holds.
cmake --preset release -B build/demo -DPARE_BUILD_TESTS=OFF -DPARE_BUILD_BENCHMARKS=OFF >/dev/null
cmake --build build/demo -j"$(nproc)" --target demo
# Writes the table and the accuracy-vs-size plot to docs/results.md (pass other arguments to
# choose: demo [data-dir] [results-dir]).
if [ $# -eq 0 ]; then
  build/demo/examples/demo examples/data docs
else
  build/demo/examples/demo "$@"
fi
