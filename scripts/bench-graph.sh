#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# pare's graph runtime beside ONNX Runtime (npm onnxruntime-node 1.30.0, CPU, one intra-op
# thread) on the same model files and inputs, in one run. Prints a Markdown table: the medians of
# each side, and ONNX Runtime's time over pare's (> 1: pare is faster).
#   scripts/bench-graph.sh [BUILD_DIR=build/release] MODEL.onnx:INPUT.npy ...
#   scripts/bench-graph.sh [BUILD_DIR] --suite    # the table in docs/performance.md
# Without pairs it times the digits CNN (tests/data/onnx). --suite adds resnet18,
# mobilenet_v3_small (224×224) and a BERT-style encoder (sequence 128) at batch 1 and 16, made by
# bench/graph/make_models.py into build/models (needs python3-torch, python3-torchvision). Installs node, npm and the onnxruntime
# package (into ${PARE_PEERS_DIR:-$HOME/.cache/pare/peers}) when missing; builds pare_model_bench.
set -euo pipefail
cd "$(dirname "$0")/.."
build=build/release
if [ $# -gt 0 ] && [ -d "$1" ]; then build=$1; shift; fi
if [ "${1:-}" = --suite ]; then
  [ -f build/models/bert_encoder__b16.npy ] || {
    scripts/install-deps.sh python3-torch python3-torchvision
    /usr/bin/python3 bench/graph/make_models.py build/models >/dev/null
  }
  set -- tests/data/onnx/cnn.onnx:tests/data/onnx/cnn__x.npy
  for m in resnet18 mobilenet_v3_small bert_encoder; do
    set -- "$@" build/models/$m.onnx:build/models/${m}__b1.npy build/models/$m.onnx:build/models/${m}__b16.npy
  done
fi
[ $# -gt 0 ] || set -- tests/data/onnx/cnn.onnx:tests/data/onnx/cnn__x.npy
# node and npm: Debian's when the machine has none (a node of its own is used as it is).
command -v node >/dev/null && command -v npm >/dev/null || scripts/install-deps.sh nodejs npm >/dev/null
peers=${PARE_PEERS_DIR:-$HOME/.cache/pare/peers}/onnxruntime
if [ ! -d "$peers/node_modules/onnxruntime-node" ]; then
  mkdir -p "$peers"
  # The package's install script downloads GPU binaries; the CPU library ships in the package.
  (cd "$peers" && ONNXRUNTIME_NODE_INSTALL=skip ONNXRUNTIME_NODE_INSTALL_CUDA=skip \
     npm install --no-audit --no-fund onnxruntime-node@1.30.0 >/dev/null)
fi
[ -f "$build/CMakeCache.txt" ] || cmake --preset release -DPARE_BUILD_BENCHMARKS=ON >/dev/null
cmake --build "$build" --target pare_model_bench -j"$(nproc)" >/dev/null
bench=$build/bench/pare_model_bench
echo "One thread each; medians (pare: 5 repetitions; onnxruntime: ${ORT_RUNS:-20} runs after 3 warm-up runs)."
echo
echo "| model | input | pare float (ms) | pare int8 (ms) | onnxruntime float (ms) | onnxruntime / pare float | onnxruntime / pare int8 |"
echo "|---|---|---|---|---|---|---|"
for pair in "$@"; do
  model=${pair%%:*} input=${pair#*:}
  json=$("$bench" --model="$model" --input="$input" --benchmark_repetitions=5 \
           --benchmark_report_aggregates_only=true --benchmark_format=json)
  # The median's real time, in ms (the benchmark's unit), and the CPU and paths pare reports.
  median='let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{
        const j=JSON.parse(s);console.log(j.benchmarks.find(b=>b.aggregate_name==="median").real_time)})'
  p=$(echo "$json" | node -e "$median")
  # the same graph compressed to int8 (pare::compress::quantize, dynamic activations)
  q=$("$bench" --model="$model" --input="$input" --quantize=int8 --benchmark_repetitions=5 \
        --benchmark_report_aggregates_only=true --benchmark_format=json | node -e "$median")
  [ -n "${cpu:-}" ] || cpu=$(echo "$json" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on(
        "end",()=>console.log(JSON.parse(s).context.cpu_report))')
  ort=$(NODE_PATH="$peers/node_modules" node bench/onnxruntime/time_model.js "$model" "$input" "${ORT_RUNS:-20}" 3 1)
  o=$(echo "$ort" | sed -n 's/.*"median_ms":\([0-9.e+-]*\).*/\1/p')
  shape=$(echo "$ort" | sed -n 's/.*"input":\[\([0-9,]*\)\].*/\1/p' | tr , x)
  awk -v m="$(basename "$model")" -v s="$shape" -v p="$p" -v q="$q" -v o="$o" \
    'BEGIN {printf "| %s | %s | %.3f | %.3f | %.3f | %.2f | %.2f |\n", m, s, p, q, o, o / p, o / q}'
done
echo
echo "CPU and pare's paths: $cpu"
