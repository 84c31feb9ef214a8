// SPDX-License-Identifier: Apache-2.0
// pare — a llama checkpoint of any size into a Q8_0 / Q4_0 GGUF file that llama.cpp and
// pare::llm::load_llama read, streamed tensor by tensor so it never needs the model in memory.
//
//     pare::llm::CheckpointQuantizeOptions o;
//     o.type = pare::io::GgmlType::q4_0;
//     o.tokenizer_from = "vocab.gguf";                 // copies its tokenizer.* keys
//     o.progress = [](const pare::llm::CheckpointProgress& p) { ... p.bytes_done ... };
//     auto r = pare::llm::quantize_checkpoint("Llama-2-7b-hf/", "llama-7b-q4_0.gguf", o);
//
// Inputs: a Hugging Face LlamaForCausalLM folder (config.json plus model.safetensors or
// model.safetensors.index.json and its shards; F32, F16 or BF16 tensors), or a llama GGUF file
// of any tensor type pare decodes. What is written:
//   - names and metadata as llama.cpp's convert_hf_to_gguf writes them (token_embd, blk.N.attn_q,
//     ..., output_norm, output; llama.* keys from config.json, general.file_type), and the Q and
//     K rows of a Hugging Face checkpoint permuted to GGUF's adjacent-pair rotary layout;
//   - the seven linear weights of every block as `type`, norms as F32, token_embd and output as
//     `embedding_type` (default Q8_0: at 4 bits they cost the most quality per byte, and
//     llama.cpp's own 4-bit types keep them at higher precision too); a tied checkpoint writes
//     no output tensor, which both readers take as "use token_embd";
//   - a GGUF input's tensors that are already of the target type are copied bit for bit.
// Memory: the current row block of one tensor as float (`chunk_bytes`) plus its encoded bytes,
// converted on pare's threads (pare::set_num_threads); the input is read through memory maps,
// the next 256 MiB requested ahead by a reader thread (MappedFile::prefetch) so the disk reads
// while the CPU converts, and the pages of each row block dropped from the process once consumed
// (MappedFile::release), so the resident size does not grow with the model.
// The output is written through a temporary that only a complete, checked file replaces
// (GgufStreamWriter): an error or an interruption leaves no file at `out_gguf`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pare/io/detail/gguf_types.hpp"
#include "pare/llm/config.hpp"

namespace pare::llm {

/// Where a quantize_checkpoint run is.
struct CheckpointProgress {
  std::uint64_t bytes_done = 0;   ///< input tensor bytes consumed
  std::uint64_t bytes_total = 0;  ///< input tensor bytes of the whole run
  double seconds = 0;             ///< since the run started
  double eta_seconds = 0;         ///< remaining, at the rate so far (0 before any byte)
  std::string_view tensor;        ///< the output tensor being written
};

struct CheckpointQuantizeOptions {
  /// Type of the blocks' linear weights: io::GgmlType::q8_0 or q4_0.
  io::GgmlType type = io::GgmlType::q8_0;
  /// Type of token_embd.weight and output.weight (f32, f16, q8_0 or q4_0); unset: q8_0.
  std::optional<io::GgmlType> embedding_type;
  /// Mixed precision when `type` is q4_0, a fixed sensitivity rule: these kinds of linear
  /// weight (GGUF names without "blk.N." and ".weight": attn_q, attn_k, attn_v, attn_output,
  /// ffn_gate, ffn_up, ffn_down) stay Q8_0 in every block. attn_v and ffn_down are the ones
  /// llama.cpp's Q4_K_M raises; on a llama-7B they hold 31 % of the blocks' weights, so keeping
  /// them Q8_0 makes the blocks 27 % larger than plain Q4_0.
  std::vector<std::string> keep_q8;
  /// Mixed precision when `type` is q4_0: all linear weights of the first and the last
  /// `keep_q8_edge_blocks` blocks stay Q8_0 (the first and last layers are the most sensitive).
  std::size_t keep_q8_edge_blocks = 0;
  /// A GGUF file whose tokenizer.* keys are copied into the output (replacing any the input
  /// has); its vocabulary must have as many tokens as the model's vocab_size. Empty: none
  /// (a GGUF input keeps its own).
  std::filesystem::path tokenizer_from;
  /// general.name; empty: the input's folder or file name.
  std::string name;
  /// Float bytes decoded at a time (whole rows; at least one row).
  std::size_t chunk_bytes = std::size_t{8} << 20;
  /// Called after every row block and once at the end.
  std::function<void(const CheckpointProgress&)> progress;
};

/// What a quantize_checkpoint run wrote.
struct CheckpointQuantizeReport {
  LlamaConfig config;
  std::size_t tensors = 0;
  std::size_t q8_0 = 0, q4_0 = 0, f32 = 0, other = 0;  ///< tensors written of each type
  std::uint64_t input_bytes = 0;                       ///< tensor bytes read
  std::uint64_t output_bytes = 0;                      ///< size of the GGUF file
  double seconds = 0;
};

/// Streams the llama checkpoint `in` (a Hugging Face folder, its config.json, or a GGUF file)
/// into the GGUF file `out_gguf` as described at the top of this header. Everything is checked
/// before the first byte is written: FormatError for a malformed or inconsistent checkpoint
/// (a tensor missing, of the wrong shape, a shard that does not parse), pare::Error for a file
/// that cannot be opened (a missing shard), UnsupportedError for architectures, features and
/// tensor types pare does not convert (see load.hpp; row lengths not a multiple of 32),
/// ArgumentError for bad options (a `type` other than q8_0/q4_0, an unknown keep_q8 kind, a
/// tokenizer whose vocabulary size differs from the model's). On any error no file appears at
/// `out_gguf` and an existing one is left as it was.
CheckpointQuantizeReport quantize_checkpoint(const std::filesystem::path& in,
                                             const std::filesystem::path& out_gguf,
                                             const CheckpointQuantizeOptions& options = {});

}  // namespace pare::llm

#ifndef PARE_COMPILED_LIB
#include "pare/llm/quantize_checkpoint-inl.hpp"
#endif
