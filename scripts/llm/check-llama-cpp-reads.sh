#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Checks that llama.cpp loads and runs GGUF files written by `pare quantize-llm`: a small
# synthetic llama (Hugging Face layout, bf16, two shards, llama's 32000-token SentencePiece
# vocabulary size) is converted to Q8_0, Q4_0 and mixed Q4_0 with the tokenizer of a llama.cpp
# vocabulary file, then run with llama-cli (4 tokens) and llama-bench.
#
#   scripts/llm/check-llama-cpp-reads.sh [PARE_BINARY] [VOCAB.gguf] [LLAMA_CPP_BIN_DIR]
#
# Defaults: build/bench/examples/pare, tests/data/llm/vocab/ggml-vocab-llama-spm.gguf (llama.cpp's
# vocabulary file), /work/peers/llama.cpp/build/bin. The weights are random, so the
# generated text is noise: the check is that llama.cpp accepts the file (names, shapes, types,
# metadata, tokenizer) and computes finite logits.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
pare=${1:-$here/build/bench/examples/pare}
vocab=${2:-$here/tests/data/llm/vocab/ggml-vocab-llama-spm.gguf}
bin=${3:-/work/peers/llama.cpp/build/bin}
for f in "$pare" "$vocab" "$bin/llama-cli" "$bin/llama-bench"; do
  [[ -e $f ]] || { echo "missing: $f" >&2; exit 2; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
/usr/bin/python3 "$here/scripts/llm/make_synthetic_hf.py" "$work/hf" --preset tiny-spm \
  --dtype bf16 --shard-gb 0.02 >/dev/null
status=0
for variant in "q8_0" "q4_0" "q4_0 --keep-q8 attn_v,ffn_down --keep-q8-edges 1"; do
  read -r type extra <<<"$variant"
  out=$work/tiny-$type.gguf
  # shellcheck disable=SC2086
  "$pare" quantize-llm "$work/hf" "$out" --type "$type" --tokenizer-from "$vocab" $extra
  echo "== llama-cli on $variant"
  if timeout 120 "$bin/llama-cli" -m "$out" -p hi -n 4 -no-cnv --temp 0 -t 2 \
      >"$work/cli.log" 2>&1 </dev/null; then
    grep -E "^hi|llama_perf_context_print: *eval time|model type|file type" "$work/cli.log" || true
    echo "llama-cli: OK"
  else
    tail -20 "$work/cli.log"
    echo "llama-cli: FAILED"
    status=1
  fi
  echo "== llama-bench on $variant"
  if timeout 300 "$bin/llama-bench" -m "$out" -p 32 -n 8 -t 2 -r 1 >"$work/bench.log" 2>&1; then
    grep -E "^\|" "$work/bench.log" || cat "$work/bench.log"
  else
    tail -20 "$work/bench.log"
    echo "llama-bench: FAILED"
    status=1
  fi
done
exit $status
