#!/usr/bin/env bash
# Run-time dispatch against compile-time flags: the same kernels from a -march=native build
# without pare_isa (every kernel instantiated in the program for this CPU, the pre-dispatch way)
# and from a -march=x86-64-v2 build (which gets AVX2/AVX-512 only through pare_isa), on every
# tier this CPU has (PARE_ISA caps it; the native build's lower tiers are its own instantiations,
# compiled with -march=native), medians of interleaved repetitions.
#
#   scripts/bench-dispatch.sh [native-build-dir] [portable-build-dir]
# defaults build/bench-static and build/portable (configured by this script when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
native=${1:-build/bench-static}
portable=${2:-build/portable}
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true
[[ -f $native/CMakeCache.txt ]] ||
  cmake -S . -B "$native" -DCMAKE_BUILD_TYPE=Release -DPARE_NATIVE=ON -DPARE_DISPATCH=OFF \
    -DPARE_BUILD_TESTS=OFF -DPARE_BUILD_EXAMPLES=OFF >/dev/null
[[ -f $portable/CMakeCache.txt ]] ||
  cmake -S . -B "$portable" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS=-march=x86-64-v2 \
    -DPARE_NATIVE=OFF -DPARE_BUILD_TESTS=OFF -DPARE_BUILD_EXAMPLES=OFF >/dev/null
for b in "$native" "$portable"; do
  cmake --build "$b" -j2 --target pare_gemm_bench pare_gemv_bench >/dev/null
done
filter_gemm='gemm/f32/(512|1024)/pare/t1'
filter_gemv='gemv/f32/4096x4096/cold/(pare/t1|eigen)'
tiers=$("$native/bench/pare_gemm_bench" --benchmark_filter=gemm/f32/64/pare/t1 --benchmark_min_time=0.01 --benchmark_format=json 2>/dev/null |
  /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["context"]["pare_dispatch"])')
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-) | best tier: $tiers"
printf '%-44s %-8s %12s %12s %8s\n' benchmark tier 'native ms' 'x86-64-v2 ms' v2/native
for tier in avx512 avx2 sse2; do
  for bench in "pare_gemm_bench $filter_gemm" "pare_gemv_bench $filter_gemv"; do
    set -- $bench
    for b in "$native" "$portable"; do
      PARE_ISA=$tier "$b/bench/$1" --benchmark_filter="$2" --benchmark_repetitions=5 \
        --benchmark_enable_random_interleaving=true --benchmark_report_aggregates_only=true \
        --benchmark_min_time=0.2 --benchmark_format=json 2>/dev/null >"/tmp/pare-dispatch-$(basename "$b").json"
    done
    /usr/bin/python3 - "$tier" "/tmp/pare-dispatch-$(basename "$native").json" \
      "/tmp/pare-dispatch-$(basename "$portable").json" <<'PY'
import json, sys
tier, a, b = sys.argv[1:]
def medians(p):
    out = {}
    for r in json.load(open(p))["benchmarks"]:
        if r.get("aggregate_name") == "median":
            scale = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}[r.get("time_unit", "ns")]
            out[r["run_name"]] = r["real_time"] * scale
    return out
na, po = medians(a), medians(b)
for k in na:
    if "eigen" in k and tier != "avx512":
        continue  # Eigen's ISA is fixed at compile time; one row is enough
    print(f"{k:<44} {tier:<8} {na[k]:12.3f} {po.get(k, float('nan')):12.3f} {po.get(k, float('nan')) / na[k]:8.3f}")
PY
  done
done
