// SPDX-License-Identifier: Apache-2.0
// pare — llama-architecture checkpoints into a LlamaModel: GGUF files as llama.cpp writes them,
// and Hugging Face folders (config.json with model.safetensors or its sharded index).
//
//     auto m  = pare::llm::load_llama("tinyllama-q4_0.gguf");      // Q4_0/Q8_0 run as stored
//     auto m8 = pare::llm::load_llama("llama-hf/", {.format = pare::llm::WeightFormat::int8});
//     pare::llm::LoadOptions mine;
//     mine.quantizer = [](std::string_view name, pare::TensorView<const float, 2> w) {
//       return pare::llm::LinearWeight(MyFormat::from(w));           // the user's own policy
//     };
//
// What is read, and what is refused (UnsupportedError, never a silent reinterpretation):
//   GGUF  general.architecture "llama" (Llama 1/2, TinyLlama, Mistral-style files converted as
//         llama); tensors F32/F16/BF16/Q8_0/Q4_0 and every K-quant pare decodes; rope scaling,
//         partial rotary dimensions and rope_freqs tensors are refused.
//   HF    model_type "llama", F32/F16/BF16 safetensors, no rope_scaling, no attention/MLP bias.
// Q/K weights stay as the file has them; the model's RopeLayout matches the file (GGUF files
// hold llama.cpp's permuted Q/K rows and rotate adjacent pairs; HF rotates halves).
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "pare/core/tensor.hpp"
#include "pare/io/gguf.hpp"
#include "pare/llm/linear_weight.hpp"
#include "pare/llm/llama.hpp"

namespace pare::llm {

/// Chooses a linear layer's format from its float weight: `name` is the tensor's name in the
/// file. An empty LinearWeight leaves the layer to LoadOptions::format.
using WeightQuantizer =
    std::function<LinearWeight(std::string_view name, TensorView<const float, 2> weight)>;

struct LoadOptions {
  /// Every linear layer converted to this format. Unset: layers stored as F32, F16 or BF16 are
  /// f32; Q8_0 and Q4_0 layers run as stored (when this build has those kernels, else f32);
  /// other quantized types are decoded to f32.
  std::optional<WeightFormat> format = {};
  /// The output projection's format; unset: `format`, except that 4-bit formats keep int8 for
  /// the output, as llama.cpp keeps a 6-bit output for its 4-bit types.
  std::optional<WeightFormat> output_format = {};
  /// The user's policy, asked first for every linear layer (not the output).
  WeightQuantizer quantizer = {};
  /// KV cache length the model is configured for; 0: the file's context length, at most 4096.
  std::size_t context = 0;
};

/// A GGUF file (by extension or magic) or a Hugging Face folder / its config.json.
[[nodiscard]] LlamaModel load_llama(const std::filesystem::path& path,
                                    const LoadOptions& options = {});

/// A llama-architecture GGUF file. FormatError for missing or mistyped keys and tensors of the
/// wrong shape; UnsupportedError for other architectures and features pare does not run.
[[nodiscard]] LlamaModel load_llama_gguf(const io::GgufFile& file, const LoadOptions& options = {});

/// A Hugging Face LlamaForCausalLM folder: config.json plus model.safetensors or
/// model.safetensors.index.json and its shards.
[[nodiscard]] LlamaModel load_llama_hf(const std::filesystem::path& folder,
                                       const LoadOptions& options = {});

/// The config a GGUF file's llama.* metadata describes (the same checks as load_llama_gguf).
[[nodiscard]] LlamaConfig gguf_llama_config(const io::GgufFile& file);

/// The config a Hugging Face config.json describes.
[[nodiscard]] LlamaConfig hf_llama_config(std::string_view config_json,
                                          std::string_view source = "config.json");

/// The whole of a text file (a config, a prompt, an evaluation text); Error when it cannot be
/// read, FormatError when it is larger than `limit` bytes.
[[nodiscard]] std::string read_text_file(const std::filesystem::path& path,
                                         std::size_t limit = std::size_t{64} << 20);

}  // namespace pare::llm

#ifndef PARE_COMPILED_LIB
#include "pare/llm/load-inl.hpp"
#endif
