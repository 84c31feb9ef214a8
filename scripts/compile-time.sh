#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# What including pare costs a user's build, beside <Eigen/Dense>: wall time and peak memory of
# g++ compiling (-c, release flags: -O3 -DNDEBUG -march=native, C++20) an empty main that includes
# each umbrella header, and two whole programs, header-only and with pare::compiled
# (-DPARE_COMPILED_LIB: the headers stop at declarations). One compile at a time; the median of
# REPS runs. Prints a Markdown table (docs/performance.md, "Compile time").
# Usage: scripts/compile-time.sh [REPS]     (default 3)
set -euo pipefail
cd "$(dirname "$0")/.."
reps=${1:-3}
scripts/install-deps.sh time >/dev/null
cxx=${CXX:-g++}
flags=(-std=c++20 -O3 -DNDEBUG -march=native -Iinclude -w)
[ -d /usr/include/eigen3 ] && flags+=(-isystem /usr/include/eigen3)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# median of $reps runs of: $cxx flags... file; prints "seconds megabytes"
measure() {
  local src=$1
  shift
  for _ in $(seq "$reps"); do
    /usr/bin/time -f '%e %M' -o "$tmp/t" "$cxx" "${flags[@]}" "$@" -c "$src" -o "$tmp/o.o"
    cat "$tmp/t"
  done | sort -n | awk -v n="$reps" 'NR == int((n + 1) / 2) {printf "%.2f %.0f\n", $1, $2 / 1024}'
}

header_tu() {
  local f="$tmp/$(echo "$1" | tr '/.<>' '____').cpp"
  printf '#include <%s>\nint main() {}\n' "$1" > "$f"
  echo "$f"
}

read -r eigen_s eigen_mb < <(measure "$(header_tu Eigen/Dense)")
echo "Compiler: $("$cxx" --version | head -1); CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); $(nproc) cores; median of $reps"
echo
echo "| translation unit | header-only | × Eigen | compiled mode | × Eigen | peak MB (h-o / compiled) |"
echo "|---|---|---|---|---|---|"
printf '| `#include <Eigen/Dense>` | %s s | 1.00 | | | %s |\n' "$eigen_s" "$eigen_mb"
row() {
  local label=$1 src=$2
  read -r hs hmb < <(measure "$src")
  read -r cs cmb < <(measure "$src" -DPARE_COMPILED_LIB)
  awk -v l="$label" -v hs="$hs" -v cs="$cs" -v e="$eigen_s" -v hmb="$hmb" -v cmb="$cmb" \
    'BEGIN {printf "| %s | %s s | %.2f | %s s | %.2f | %s / %s |\n", l, hs, hs / e, cs, cs / e, hmb, cmb}' 
}
for h in pare/pare.hpp pare/quant.hpp pare/prune.hpp pare/distill.hpp pare/io.hpp pare/nn.hpp pare/sparse.hpp pare/llm.hpp pare/serve.hpp; do
  row "\`#include <$h>\`" "$(header_tu "$h")"
done
row "examples/compress.cpp (load, quantize, prune, save)" examples/compress.cpp
row "examples/demo.cpp" examples/demo.cpp
