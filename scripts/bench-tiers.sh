#!/usr/bin/env bash
# The kernels against their peers on each ISA tier this CPU has, one thread, in the same run:
#   avx512: build/bench (-march=native), everything uncapped;
#   avx2:   build/v3 (-march=x86-64-v3, so Eigen is AVX2 code too), PARE_ISA=avx2,
#           ONEDNN_MAX_CPU_ISA=AVX2, OPENBLAS_CORETYPE=Haswell.
#
#   scripts/bench-tiers.sh [benchmark-filter-regex]     (default: the issue-14 target rows)
set -euo pipefail
cd "$(dirname "$0")/.."
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true
filter=${1:-'gemm/f32/(512|1024)/(pare/t1|eigen|openblas|onednn)$|gemv/f32/4096x4096/cold/(pare/t1|eigen|openblas)'}
[[ -f build/bench/CMakeCache.txt ]] || cmake --preset bench >/dev/null
[[ -f build/v3/CMakeCache.txt ]] ||
  cmake -S . -B build/v3 -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS=-march=x86-64-v3 \
    -DPARE_NATIVE=OFF -DPARE_BUILD_TESTS=OFF -DPARE_BUILD_EXAMPLES=OFF >/dev/null
benches=(pare_gemm_bench pare_gemv_bench pare_gemm_int8_bench pare_gemv_int4_bench pare_spmv_bench)
for b in build/bench build/v3; do cmake --build "$b" -j2 --target "${benches[@]}" >/dev/null; done
run() {  # tier dir
  local tier=$1 dir=$2
  for bench in "${benches[@]}"; do
    "$dir/bench/$bench" --benchmark_filter="$filter" --benchmark_repetitions=5 \
      --benchmark_enable_random_interleaving=true --benchmark_report_aggregates_only=true \
      --benchmark_min_time=0.2 --benchmark_format=json 2>/dev/null |
      /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)
ctx = d["context"]
for r in d["benchmarks"]:
    if r.get("aggregate_name") != "median": continue
    scale = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}[r.get("time_unit", "ns")]
    extra = "".join(f" {k}={r[k]/1e9:.1f}G" for k in ("FLOPS", "OPS", "bytes_per_second") if k in r)
    print(f"{sys.argv[1]:<7} {r[\"run_name\"]:<58} {r[\"real_time\"]*scale:10.3f} ms{extra}  [{ctx[\"pare_dispatch\"]}]")
' "$tier"
  done
}
echo "CPU:$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
run avx512 build/bench
PARE_ISA=avx2 ONEDNN_MAX_CPU_ISA=AVX2 OPENBLAS_CORETYPE=Haswell run avx2 build/v3
