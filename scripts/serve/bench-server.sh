#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Load test of examples/server on loopback with `hey`: throughput and p50/p99 latency of the same
# MLP (scripts/serve/make_mlp.py) in float32, int8 and int4 (pare quantize, round to nearest),
# with 1 and 2 model workers, without batching, with greedy batching (a worker takes every queued
# request, up to 32 rows, without waiting) and with batching that waits up to 2 ms for 32 rows. Each configuration runs for a
# fixed time against a fresh server; hey keeps CONNS requests in flight.
#   scripts/serve/bench-server.sh BUILD_DIR OUT_DIR [SECONDS] [CONNS]
# BUILD_DIR must hold examples/pare_server and examples/pare (the release preset builds both).
# Writes OUT_DIR/serving.csv, OUT_DIR/serving.md (the table) and OUT_DIR/serving.svg (the plot).
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:?usage: bench-server.sh BUILD_DIR OUT_DIR [SECONDS] [CONNS]}
out=${2:?usage: bench-server.sh BUILD_DIR OUT_DIR [SECONDS] [CONNS]}
seconds=${3:-10}
conns=${4:-16}
server=$build/examples/pare_server
cli=$build/examples/pare
command -v hey >/dev/null || { echo "bench-server: hey is missing (scripts/install-deps.sh)" >&2; exit 2; }
mkdir -p "$out"
[ -f "$out/mlp.onnx" ] || /usr/bin/python3 scripts/serve/make_mlp.py "$out/mlp"
[ -f "$out/mlp-int8.pare" ] || "$cli" quantize "$out/mlp.onnx" "$out/mlp-int8.pare" --format int8 >/dev/null
[ -f "$out/mlp-int4.pare" ] || "$cli" quantize "$out/mlp.onnx" "$out/mlp-int4.pare" --format int4 --group 32 >/dev/null
cpu=$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')
echo "model,workers,batching,requests_per_s,p50_ms,p99_ms,ok,errors" > "$out/serving.csv"
for model in mlp.onnx mlp-int8.pare mlp-int4.pare; do
  for workers in 1 2; do
    for batching in off greedy wait2ms; do
      flags=(--workers "$workers" --threads 1 --queue 256 --http-threads 64)
      case $batching in
        off) flags+=(--no-batching) ;;
        greedy) flags+=(--max-batch 32 --max-wait-us 0) ;;      # whatever is queued, no waiting
        wait2ms) flags+=(--max-batch 32 --max-wait-us 2000) ;;  # wait up to 2 ms for 32 rows
      esac
      rm -f "$out/port"
      "$server" "$out/$model" --port 0 --port-file "$out/port" "${flags[@]}" 2>"$out/server.log" &
      pid=$!
      for _ in $(seq 100); do [ -s "$out/port" ] && break; sleep 0.1; done
      port=$(cat "$out/port")
      url=http://127.0.0.1:$port/predict
      hey -n 200 -c "$conns" -m POST -T application/json -D "$out/mlp.x.json" "$url" >/dev/null  # warm-up
      hey -z "${seconds}s" -c "$conns" -m POST -T application/json -D "$out/mlp.x.json" "$url" > "$out/hey.txt"
      kill -TERM "$pid"; wait "$pid" || true
      rps=$(awk '/Requests\/sec/ {print $2}' "$out/hey.txt")
      p50=$(awk '/ 50% in/ {print $3 * 1000}' "$out/hey.txt")
      p99=$(awk '/ 99% in/ {print $3 * 1000}' "$out/hey.txt")
      ok=$(awk '/\[200\]/ {print $2}' "$out/hey.txt")
      total=$(awk '/\[[0-9]+\]/ {n += $2} END {print n + 0}' "$out/hey.txt")
      echo "$model,$workers,$batching,$rps,$p50,$p99,${ok:-0},$((total - ${ok:-0}))" | tee -a "$out/serving.csv"
    done
  done
done
/usr/bin/python3 scripts/serve/plot_serving.py "$out/serving.csv" "$out/serving.svg" "$cpu, $conns connections, ${seconds} s each" > "$out/serving.md"
cat "$out/serving.md"
