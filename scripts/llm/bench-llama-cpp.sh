#!/usr/bin/env bash
# pare's decoder against llama.cpp on the same GGUF files: prompt processing (pp, one batch) and
# decode (tg, one token at a time) tokens/s, 1 and 2 threads, the way llama-bench counts them.
#
#   scripts/llm/bench-llama-cpp.sh [WORK_DIR] [TYPES] [THREADS]
#     WORK_DIR  where the random-weight models are made (default /work/tmp; ~2 GB)
#     TYPES     default "q4_0 q8_0"     THREADS  default "1 2"
# Needs: build/bench/bench/make_random_llama and build/release/examples/llm_bench (cmake presets
# bench and release), llama.cpp built by scripts/build-llama-cpp.sh (LLAMA_CPP_BIN, default
# /work/peers/llama.cpp/build/bin), and llama.cpp's models/ggml-vocab-llama-spm.gguf (VOCAB; the
# script extracts it from LLAMA_CPP_GIT, a llama.cpp git dir, when missing).
# The model is TinyLlama-1.1B's shape with random weights (make_random_llama --shape tinyllama):
# speed does not depend on the values. Runs are interleaved (pare, llama.cpp, pare, ...) so drift
# in the machine's speed hits both.
set -euo pipefail
cd "$(dirname "$0")/../.."
work=${1:-/work/tmp}
types=${2:-"q4_0 q8_0"}
threads=${3:-"1 2"}
bin=${LLAMA_CPP_BIN:-/work/peers/llama.cpp/build/bin}
vocab=${VOCAB:-$work/vocab-llama-spm.gguf}
reps=${REPS:-3}
mkdir -p "$work"
if [ ! -f "$vocab" ]; then
  git -C "${LLAMA_CPP_GIT:?set VOCAB or LLAMA_CPP_GIT}" show HEAD:models/ggml-vocab-llama-spm.gguf > "$vocab"
fi
echo "# $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cpus; $(date -u +%F)"
echo "# llama.cpp $(cat "$bin/../../src/COMMIT" 2>/dev/null || echo '?')"
for t in $types; do
  model="$work/tinyllama-$t.gguf"
  [ -f "$model" ] || build/bench/bench/make_random_llama "$model" "$t" "$vocab"
  for th in $threads; do
    for round in 1 2; do
      build/release/examples/llm_bench "$model" -p 128 -n 64 -t "$th" -r "$reps" 2>/dev/null |
        sed "s/^/pare      $t round $round: /"
      "$bin/llama-bench" -m "$model" -p 128 -n 64 -t "$th" -r "$reps" -o csv 2>/dev/null |
        tr -d '"' | awk -F, -v t="$t" -v r="$round" -v th="$th" '
          NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
          { test = $col["n_prompt"] > 0 ? "pp" $col["n_prompt"] : "tg" $col["n_gen"];
            printf "llama.cpp %s round %s: %-5s t%s %9.2f ± %.2f tok/s\n", t, r, test, th,
                   $col["avg_ts"], $col["stddev_ts"] }'
    done
  done
done
