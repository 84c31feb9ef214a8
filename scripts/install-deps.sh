#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs, with apt-get, whatever pare's build needs and this Debian machine lacks.
# Usage: scripts/install-deps.sh [extra-package ...]
set -euo pipefail

# python3-onnx: the generators of ONNX's node test cases (tests/onnx_node).
# python3-torch, python3-torchvision: the models exported for the model zoo tests (tests/onnx_zoo).
# Optional tools, not needed by the build: python3-sentencepiece and fortunes (its English text
# files are the corpus) for scripts/llm/train_tiny_llama.py, which makes tests/data/llm/tiny;
# python3-regex and python3-sentencepiece for the generators of the tokenizer's expected splits
# and ids (tests/data/llm/vocab).
# libcpp-httplib-dev (found with pkg-config): the model server example (examples/server); hey:
# the HTTP load generator its load test and scripts/serve/bench-server.sh drive it with.
packages=(git g++ cmake make ccache libeigen3-dev libxsimd-dev catch2 libbenchmark-dev
          libopenblas-dev libdnnl-dev libgemmlowp-dev libhdf5-dev clang-format-19 python3-numpy
          python3-onnx python3-torch python3-torchvision python3-regex python3-sentencepiece
          fortunes libcpp-httplib-dev pkg-config hey "$@")
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "pare: installing ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
