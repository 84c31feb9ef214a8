// SPDX-License-Identifier: Apache-2.0
// pare — the shape of a llama-architecture decoder: sizes, normalization epsilon, rotary
// embedding base and layout.
//
//     pare::llm::LlamaConfig c;
//     c.vocab_size = 32000; c.hidden = 2048; c.layers = 22; c.heads = 32; c.kv_heads = 4;
//     c.ffn = 5632; c.context = 2048;
//     c.validate();   // ArgumentError naming the first field that is inconsistent
//
// Two layouts of the rotary embedding exist in checkpoints of the same architecture: Meta's
// original and GGUF files rotate adjacent pairs (x[2i], x[2i+1]); Hugging Face checkpoints rotate
// the two halves of each head (x[i], x[i + d/2]) after permuting the rows of the Q and K
// projections. The loaders set `rope` to match the file, so no weight is permuted at load time.
#pragma once

#include <cstddef>
#include <string>

namespace pare::llm {

/// Which elements of a head the rotary embedding rotates together.
enum class RopeLayout {
  interleaved,  ///< pairs (2i, 2i+1): Meta's checkpoints, GGUF "llama"
  halves,       ///< pairs (i, i + head_dim/2): Hugging Face LlamaForCausalLM
};

/// Sizes and constants of a llama-architecture decoder (RMSNorm, rotary embeddings,
/// grouped-query attention, SwiGLU MLP).
struct LlamaConfig {
  std::size_t vocab_size = 0;
  std::size_t hidden = 0;      ///< model width
  std::size_t layers = 0;      ///< decoder blocks
  std::size_t heads = 0;       ///< query heads
  std::size_t kv_heads = 0;    ///< key/value heads (heads for plain multi-head attention)
  std::size_t ffn = 0;         ///< width of the SwiGLU MLP
  std::size_t context = 2048;  ///< longest sequence the KV cache holds by default
  float rms_eps = 1e-5f;
  float rope_theta = 10000.0f;
  RopeLayout rope = RopeLayout::halves;

  [[nodiscard]] std::size_t head_dim() const noexcept { return heads ? hidden / heads : 0; }
  /// Width of the K and V projections.
  [[nodiscard]] std::size_t kv_width() const noexcept { return kv_heads * head_dim(); }

  /// Weights of the whole model (embedding and output counted apart), in double so a hostile
  /// config cannot overflow it.
  [[nodiscard]] double weight_count() const noexcept {
    const double h = double(hidden), per_layer = 2.0 * h * h + 2.0 * h * double(kv_width()) +
                                                 3.0 * h * double(ffn) + 2.0 * h;
    return double(layers) * per_layer + 2.0 * double(vocab_size) * h + h;
  }

  /// ArgumentError unless the sizes are positive and consistent: heads divides hidden into an
  /// even head_dim, kv_heads divides heads, and every size is below the limits a real model has
  /// (so a hostile file cannot ask for terabytes): hidden and ffn ≤ 2^17, layers ≤ 1024, vocab ≤
  /// 2^22, context ≤ 2^20, weights ≤ 2^38 values. rms_eps > 0, rope_theta > 0, both finite.
  void validate() const;

  /// "hidden 2048, 22 layers, 32 heads (4 kv), ffn 5632, vocab 32000, context 2048".
  [[nodiscard]] std::string describe() const;
};

}  // namespace pare::llm

#ifndef PARE_COMPILED_LIB
#include "pare/llm/config-inl.hpp"
#endif
