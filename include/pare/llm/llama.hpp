// SPDX-License-Identifier: Apache-2.0
// pare — a llama-architecture decoder (RMSNorm, rotary embeddings, grouped-query attention with a
// KV cache, SwiGLU MLP) built from pare's kernels, its linear layers in any LinearWeight format.
//
//     auto model = pare::llm::load_llama("model.gguf");            // llm/load.hpp
//     pare::llm::KvCache cache(model.config());
//     std::vector<float> logits(model.config().vocab_size);
//     model.forward(prompt_ids, cache, logits);                     // the prompt, one batch
//     model.forward({&next, 1}, cache, logits);                     // then one token at a time
//
//   token ──► embedding ──► x ─┬─► RMSNorm ─► Q,K,V ─► RoPE ─► attention(KV cache) ─► O ─► (+) ─┐
//                              └──────────────────────────────────────────────────────────┘   │
//                         x ◄─ (+) ◄─ down(silu(gate(h)) · up(h)) ◄─ h = RMSNorm(x) ◄──────────┘
//                              × layers, then RMSNorm ─► output ─► logits
//
// A model is immutable once built: forward() is const and keeps its state in the caller's
// KvCache, so one model serves several sequences (one cache each) from several threads
// (docs/concurrency.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "pare/core/tensor.hpp"
#include "pare/llm/config.hpp"
#include "pare/llm/linear_weight.hpp"

namespace pare::llm {

/// The token embedding table: rows decoded one at a time from whatever the model holds (f32, or
/// a quantized table read in place from a mapped file).
class Embedding {
 public:
  /// Writes row `r` (cols floats) to `out`. @pre r < rows
  using RowDecoder = std::function<void(std::size_t r, float* out)>;

  Embedding() = default;
  /// An f32 table [vocab, hidden].
  explicit Embedding(Tensor<float, 2> table);
  /// A table of `rows` × `cols` decoded by `decode`, holding `bytes` bytes.
  Embedding(std::size_t rows, std::size_t cols, RowDecoder decode, std::size_t bytes);

  [[nodiscard]] std::size_t rows() const noexcept { return rows_; }
  [[nodiscard]] std::size_t cols() const noexcept { return cols_; }
  [[nodiscard]] std::size_t size_bytes() const noexcept { return bytes_; }
  /// Row `r` to out [cols]; ArgumentError when r is out of range.
  void row(std::size_t r, float* out) const;

 private:
  std::size_t rows_ = 0, cols_ = 0, bytes_ = 0;
  RowDecoder decode_;
};

/// One decoder block's weights.
struct LlamaBlock {
  Tensor<float, 1> attn_norm;   ///< [hidden] RMSNorm weight before attention
  LinearWeight q, k, v, o;      ///< [hidden|kv_width, hidden], o [hidden, hidden]
  Tensor<float, 1> ffn_norm;    ///< [hidden]
  LinearWeight gate, up, down;  ///< [ffn, hidden], [ffn, hidden], [hidden, ffn]
  /// Optional fusions the loaders make when the format allows: Q, K and V stacked
  /// [hidden + 2 kv_width, hidden] (then q, k, v are empty) and gate and up stacked [2 ffn, hidden]
  /// (then gate and up are empty) — one kernel call instead of three or two per step.
  LinearWeight qkv, gate_up;
};

/// Keys and values of the positions a sequence has seen, per layer; what a decoder needs to go
/// on from where it stopped. One per sequence; not shared between threads.
class KvCache {
 public:
  KvCache() = default;
  /// Room for `capacity` positions (0: config.context).
  explicit KvCache(const LlamaConfig& config, std::size_t capacity = 0);

  [[nodiscard]] std::size_t length() const noexcept { return length_; }
  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }
  /// Forgets everything (a new sequence).
  void clear() noexcept { length_ = 0; }
  /// Keeps the first n positions (n ≤ length()).
  void truncate(std::size_t n);

  [[nodiscard]] float* keys(std::size_t layer, std::size_t pos) noexcept {
    return k_.data() + (layer * capacity_ + pos) * width_;
  }
  [[nodiscard]] float* values(std::size_t layer, std::size_t pos) noexcept {
    return v_.data() + (layer * capacity_ + pos) * width_;
  }
  [[nodiscard]] const float* keys(std::size_t layer, std::size_t pos) const noexcept {
    return k_.data() + (layer * capacity_ + pos) * width_;
  }
  [[nodiscard]] const float* values(std::size_t layer, std::size_t pos) const noexcept {
    return v_.data() + (layer * capacity_ + pos) * width_;
  }
  /// Marks n more positions filled (the decoder's call).
  void advance(std::size_t n) noexcept { length_ += n; }
  [[nodiscard]] std::size_t width() const noexcept { return width_; }
  [[nodiscard]] std::size_t layers() const noexcept { return layers_; }

 private:
  std::size_t layers_ = 0, capacity_ = 0, width_ = 0, length_ = 0;
  std::vector<float> k_, v_;
};

/// Called by LlamaModel::forward with the input of each linear layer: block index, which layer
/// ("q" for q/k/v, "o", "gate" for gate/up, "down"), and the rows x [n, cols]. Calibration
/// (GPTQ, AWQ, SmoothQuant) collects its statistics here.
using LinearInputObserver =
    std::function<void(std::size_t block, std::string_view layer, TensorView<const float, 2> x)>;

/// One decoder block on the hidden states x [n, hidden] (updated in place) of n tokens at
/// positions cache.length() …; their keys and values go to layer `cache_layer` of the cache,
/// which is not advanced (the caller advances it once all blocks ran). LlamaModel::forward runs
/// every block this way; layer-by-layer calibration runs one block over many sequences.
/// @pre shapes as LlamaModel checks them, and room in the cache.
void forward_block(const LlamaConfig& config, const LlamaBlock& block, std::size_t cache_layer,
                   TensorView<float, 2> x, KvCache& cache, const LinearInputObserver& observe = {},
                   std::size_t observer_block = 0);

class LlamaModel {
 public:
  LlamaModel() = default;
  /// Checks every shape against `config` (ShapeError naming the tensor).
  LlamaModel(LlamaConfig config, Embedding embedding, std::vector<LlamaBlock> blocks,
             Tensor<float, 1> norm, LinearWeight output);

  [[nodiscard]] const LlamaConfig& config() const noexcept { return config_; }
  [[nodiscard]] const Embedding& embedding() const noexcept { return embedding_; }
  [[nodiscard]] const std::vector<LlamaBlock>& blocks() const noexcept { return blocks_; }
  [[nodiscard]] std::vector<LlamaBlock>& blocks() noexcept { return blocks_; }
  [[nodiscard]] const Tensor<float, 1>& norm() const noexcept { return norm_; }
  [[nodiscard]] const LinearWeight& output() const noexcept { return output_; }
  [[nodiscard]] LinearWeight& output() noexcept { return output_; }
  /// Bytes of all weights as held.
  [[nodiscard]] std::size_t size_bytes() const;
  /// Parameter count (embedding counted once even when tied to the output).
  [[nodiscard]] std::size_t parameters() const;

  /// Runs `tokens` at positions cache.length() … and appends them to the cache. `logits` receives
  /// the last token's logits (size vocab) or every token's (size n · vocab, row-major). Tokens
  /// are processed together (one GEMM per weight); long prompts may be cut into several calls.
  /// ArgumentError for an unknown token id, a cache of another shape, or a cache without room;
  /// ShapeError for a logits span of another size.
  void forward(std::span<const std::int32_t> tokens, KvCache& cache, std::span<float> logits,
               const LinearInputObserver& observe = {}) const;

 private:
  LlamaConfig config_;
  Embedding embedding_;
  std::vector<LlamaBlock> blocks_;
  Tensor<float, 1> norm_;
  LinearWeight output_;
};

}  // namespace pare::llm

#ifndef PARE_COMPILED_LIB
#include "pare/llm/llama-inl.hpp"
#endif
