#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Streams a synthetic ~32 GB llama checkpoint (Llama-3-8B shapes, f32 safetensors in 5 GB shards)
# through `pare quantize-llm` and reports peak RSS, seconds and input GB/s against the disk's
# sequential read speed measured the same way (the same shards, cold, dd bs=16M). Results: docs/llm.md.
#
#   scripts/llm/bench-stream-quantize.sh [DIR] [--type q4_0|q8_0] [--keep] [--pare BINARY]
#
# DIR (default /work/tmp/big) receives the checkpoint and the output; it needs 40 GB free. The
# files are deleted at the end unless --keep. Cold reads: every shard is dropped from the page
# cache (posix_fadvise DONTNEED after fsync) before each measurement, which needs no privileges;
# /proc/sys/vm/drop_caches is tried first.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
dir=/work/tmp/big type=q4_0 keep=0 pare=$here/build/bench/examples/pare
while (($#)); do
  case $1 in
    --type) type=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    --pare) pare=$2; shift 2 ;;
    *) dir=$1; shift ;;
  esac
done
[[ -x $pare ]] || { echo "build pare first: cmake --preset bench -DPARE_BUILD_EXAMPLES=ON && cmake --build build/bench -j2 --target pare_cli" >&2; exit 2; }
mkdir -p "$dir"
free_gb=$(df -BG --output=avail "$dir" | tail -1 | tr -dc 0-9)
if [[ ! -f $dir/hf/config.json ]] && ((free_gb < 40)); then
  echo "only ${free_gb} GB free on $(df --output=target "$dir" | tail -1): need 40" >&2
  exit 2
fi
cleanup() { ((keep)) || rm -rf "$dir/hf" "$dir/out.gguf"; }
trap cleanup EXIT

if [[ ! -f $dir/hf/config.json ]]; then
  echo "== writing the checkpoint"
  /usr/bin/time -f "written in %e s" /usr/bin/python3 "$here/scripts/llm/make_synthetic_hf.py" \
    "$dir/hf" --preset llama3-8b --dtype f32 --shard-gb 5
fi
drop() {
  sync
  if ! (echo 1 >/proc/sys/vm/drop_caches) 2>/dev/null; then
    /usr/bin/python3 -c '
import os, sys
for p in sys.argv[1:]:
    fd = os.open(p, os.O_RDONLY); os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED); os.close(fd)
' "$dir"/hf/*.safetensors
  fi
}
input_bytes=$(du -cb "$dir"/hf/*.safetensors | tail -1 | cut -f1)

# The disk is measured on the same bytes the quantizer reads: every shard, cold, in order.
echo "== disk: sequential read of every shard, cold (dd bs=16M)"
drop
disk_s=$( { /usr/bin/time -f "%e" sh -c 'for f in "$@"; do dd if="$f" of=/dev/null bs=16M status=none; done' _ "$dir"/hf/*.safetensors; } 2>&1 | tail -1)
disk_gbs=$(awk -v b="$input_bytes" -v s="$disk_s" 'BEGIN { printf "%.2f", b / 1e9 / s }')
echo "disk: $input_bytes bytes in ${disk_s} s = ${disk_gbs} GB/s"

echo "== pare quantize-llm --type $type"
drop
/usr/bin/time -v "$pare" quantize-llm "$dir/hf" "$dir/out.gguf" --type "$type" \
  2> >(tee "$dir/time.log" | grep -v "^\s*$" >&2)
rss_kb=$(awk -F: '/Maximum resident set size/ { gsub(/ /, "", $2); print $2 }' "$dir/time.log")
wall=$(awk '/Elapsed \(wall clock\)/ { print $NF }' "$dir/time.log")
secs=$(awk -v t="$wall" 'BEGIN { n = split(t, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }')
largest=$((128256 * 4096 * 4))
awk -v in_b="$input_bytes" -v out_b="$(stat -c %s "$dir/out.gguf")" -v rss="$rss_kb" \
    -v s="$secs" -v disk="$disk_gbs" -v big="$largest" 'BEGIN {
  gbs = in_b / 1e9 / s
  printf "input %.2f GB, output %.2f GB, %.1f s, %.2f GB/s = %.0f %% of the disk (%.2f GB/s)\n",
         in_b / 1e9, out_b / 1e9, s, gbs, 100 * gbs / disk, disk
  printf "peak RSS %.2f GB = %.2f x the largest tensor (%.2f GB)\n", rss * 1024 / 1e9,
         rss * 1024 / big, big / 1e9 }'
echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.1f GB RAM", $2 / 1e6 }' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
