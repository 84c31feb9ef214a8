#!/usr/bin/env bash
# Builds llama.cpp's CPU backend and tools (llama-bench, llama-cli, llama-perplexity,
# llama-tokenize, llama-quantize) as the peer for pare's LLM benchmarks and compatibility checks.
# Usage: scripts/build-llama-cpp.sh <llama.cpp git dir or checkout> [out dir, default /work/peers/llama.cpp]
# The source may be a bare snapshot (as the `fetch` tool leaves it): blobs it lacks (large model
# files) are skipped, the rest of HEAD is extracted. Built for the machine (GGML_NATIVE), Release.
set -euo pipefail
src=${1:?llama.cpp git dir}
out=${2:-/work/peers/llama.cpp}
mkdir -p "$out/src"
if [ ! -f "$out/src/CMakeLists.txt" ]; then
  for dir in CMakeLists.txt cmake common ggml include src examples pocs; do
    git -C "$src" ls-tree -r HEAD -- "$dir" | while read -r mode type sha path; do
      [ "$type" = blob ] || continue
      mkdir -p "$out/src/$(dirname "$path")"
      git -C "$src" cat-file blob "$sha" > "$out/src/$path" 2>/dev/null || rm -f "$out/src/$path"
    done
  done
  git -C "$src" rev-parse HEAD > "$out/src/COMMIT"
fi
cmake -S "$out/src" -B "$out/build" -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON \
  -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_SERVER=OFF -DGGML_OPENMP=ON >/dev/null
cmake --build "$out/build" -j"${JOBS:-2}" --target llama-bench llama-cli llama-perplexity \
  llama-tokenize llama-quantize
echo "llama.cpp $(cat "$out/src/COMMIT") built in $out/build/bin"
