#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds and runs the tests: every test under AddressSanitizer + UBSan (dev preset, Debug -O0,
# linked with pare::compiled), the core and kernel tests (thread pool, threaded kernels) under
# ThreadSanitizer (scripts/tsan.sh),
# then every file reader's libFuzzer target briefly (PARE_FUZZ_SECONDS each), then an optimized
# pass (release preset, -O3 -march=native) of what optimization changes: the SIMD kernels, the
# exhaustive element-type sweeps, every benchmark (smoke-run), the examples and the CLI, header-only.
# Last, scripts/check-deps.sh proves install-deps.sh installs every package the builds used.
# Set PARE_FULL_RELEASE=1 to build and run every test folder in the optimized pass too.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
jobs=$(nproc)
# ccache (found by CMakeLists.txt) hits across clones: paths under the repository are hashed
# relative to it, and no absolute path is compiled into a test.
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true
run_preset() {
  local preset=$1
  shift
  echo "== pare: $preset build =="
  cmake --preset "$preset" "$@" >/dev/null
  cmake --build --preset "$preset" -j"$jobs"
  ctest --preset "$preset" -j"$jobs"
}
start=$SECONDS
run_preset dev -DPARE_BUILD_TESTS=ON -DPARE_BUILD_EXAMPLES=ON
echo "== pare: dev done after $((SECONDS - start)) s; ThreadSanitizer pass =="
scripts/tsan.sh
echo "== pare: tsan done after $((SECONDS - start)) s; fuzz smoke =="
scripts/fuzz.sh "${PARE_FUZZ_SECONDS:-10}"
echo "== pare: fuzz done after $((SECONDS - start)) s =="
# Explicit switches: a cache left by another configuration (say, with benchmarks off) must not
# silently shrink what this pass builds.
release_flags=(-DPARE_BUILD_TESTS=ON -DPARE_BUILD_BENCHMARKS=ON -DPARE_BUILD_EXAMPLES=ON)
if [ "${PARE_FULL_RELEASE:-0}" = 1 ]; then
  run_preset release "${release_flags[@]}" -DPARE_ONLY_TEST_DIRS=
else
  run_preset release "${release_flags[@]}" "-DPARE_ONLY_TEST_DIRS=core;simd;kernels"
fi
# Every package the builds above used must be one install-deps.sh installs.
scripts/check-deps.sh build/dev build/tsan build/fuzz build/release
echo "== pare: all done after $((SECONDS - start)) s =="
