// SPDX-License-Identifier: Apache-2.0
// pare — GPTQ for a whole decoder, one block at a time, as the GPTQ reference implementation
// runs it: the calibration sequences' hidden states enter block 0; each block's linear layers
// are quantized from the Hessians of their inputs (q/k/v share one, gate/up share one), then the
// quantized block computes the hidden states the next block sees. Only one block's weights and
// the calibration activations (sequences × length × hidden floats) are needed at a time, so the
// block source may read each block from disk as it is reached.
//
//     auto f32 = pare::llm::load_llama("model.gguf", {.format = pare::llm::WeightFormat::f32});
//     std::vector<std::vector<std::int32_t>> calib = ...;   // e.g. 128 sequences of 512 tokens
//     auto q = pare::llm::gptq_quantize(f32, calib, {.format = pare::llm::WeightFormat::q4g32});
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "pare/llm/llama.hpp"
#include "pare/quant/gptq.hpp"

namespace pare::llm {

struct GptqModelOptions {
  /// q4g16, q4g32 or nf4 (GPTQ's own formats); f32, int8 and q8_0 are rounded to nearest.
  WeightFormat format = WeightFormat::q4g32;
  GptqOptions gptq = {};
};

/// Reads a block's float weights (each linear layer a DenseWeight), e.g. from a mapped file.
using BlockSource = std::function<LlamaBlock(std::size_t block)>;
/// Receives a block once quantized.
using BlockSink = std::function<void(std::size_t block, LlamaBlock quantized)>;

/// The layer-by-layer core: `hidden` holds each calibration sequence's hidden states [len, hidden]
/// entering block 0 (the embeddings) and is advanced through every block in place.
/// UnsupportedError for a format GPTQ does not produce (q4_0), ArgumentError when a block's
/// linear layers are not f32 or the sequences do not fit the context.
void gptq_blocks(const LlamaConfig& config, const BlockSource& source, const BlockSink& sink,
                 std::vector<Tensor<float, 2>>& hidden, const GptqModelOptions& options = {});

/// GPTQ of every block's linear layers of an f32 model; embedding, norms and output unchanged.
[[nodiscard]] LlamaModel gptq_quantize(const LlamaModel& model,
                                       std::span<const std::vector<std::int32_t>> sequences,
                                       const GptqModelOptions& options = {});

}  // namespace pare::llm

#ifndef PARE_COMPILED_LIB
#include "pare/llm/gptq_model-inl.hpp"
#endif
