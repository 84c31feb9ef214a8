#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# ThreadSanitizer pass over the code that runs on several threads: the thread pool
# (core/parallel.hpp) and the threaded kernels, through the core and kernel tests, and one loaded
# model serving several program threads at once, through the serve tests (docs/concurrency.md)
# (tsan preset: Debug -O1, -fsanitize=thread, linked with pare::compiled). Exit status: ctest's.
#   scripts/tsan.sh            # from anywhere; PARE_JOBS overrides the parallelism (default nproc)
# scripts/test.sh can run it after the dev pass:  scripts/tsan.sh
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${PARE_JOBS:-$(nproc)}
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true
echo "== pare: tsan build (core, kernel and serve tests) =="
cmake --preset tsan >/dev/null
cmake --build --preset tsan -j"$jobs"
# The threaded tests run on 2 and 3 threads whatever the machine; the rest run too, since any
# kernel may now call the pool.
ctest --preset tsan -j"$jobs"
