// SPDX-License-Identifier: Apache-2.0
// pare — running a decoder: text generation with timing, and perplexity over a token stream.
//
//     pare::llm::KvCache cache(model.config());
//     pare::llm::Sampler sampler({.temperature = 0.7f, .top_p = 0.9f});
//     auto stats = pare::llm::generate(model, cache, prompt, 64, sampler, [&](std::int32_t id) {
//       std::cout << tokenizer.token_to_piece(id) << std::flush;
//       return !tokenizer.is_end_of_generation(id);                // false stops
//     });
//     stats.tokens_per_second();
//
//     auto ppl = pare::llm::perplexity(model, ids, 256, 128).perplexity();
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>

#include "pare/llm/llama.hpp"
#include "pare/llm/sampler.hpp"

namespace pare::llm {

struct GenerationStats {
  std::size_t prompt_tokens = 0;
  std::size_t generated = 0;
  double prompt_seconds = 0;    ///< processing the prompt (to the first sampled token)
  double generate_seconds = 0;  ///< the decode steps after it
  [[nodiscard]] double prompt_tokens_per_second() const noexcept {
    return prompt_seconds > 0 ? double(prompt_tokens) / prompt_seconds : 0;
  }
  /// Decode speed: tokens after the first per second (the first comes from the prompt pass).
  [[nodiscard]] double tokens_per_second() const noexcept {
    return generate_seconds > 0 && generated > 1 ? double(generated - 1) / generate_seconds : 0;
  }
};

/// Appends `prompt` to the cache in batches of `batch` tokens, then samples up to `max_new`
/// tokens, calling on_token with each; on_token returning false stops (after that token).
/// Stops early, without error, when the cache is full. ArgumentError for an empty prompt or a
/// prompt longer than the cache's room.
GenerationStats generate(const LlamaModel& model, KvCache& cache,
                         std::span<const std::int32_t> prompt, std::size_t max_new,
                         Sampler& sampler, const std::function<bool(std::int32_t)>& on_token,
                         std::size_t batch = 128);

struct PerplexityResult {
  double nll_sum = 0;      ///< sum of -log p(token | context) over the scored tokens, nats
  std::size_t scored = 0;  ///< tokens scored
  [[nodiscard]] double mean_nll() const noexcept { return scored ? nll_sum / double(scored) : 0; }
  [[nodiscard]] double perplexity() const noexcept;
};

/// Perplexity of `tokens` by sliding windows: windows of `window` tokens start every `stride`
/// tokens (the last one ends at the last token); each window, run from an empty cache, scores
/// the tokens no earlier window scored, each predicted from the tokens before it in the window
/// (the first token of the stream is never scored). stride == window: disjoint windows.
/// The Hugging Face "perplexity of fixed-length models" procedure. ArgumentError when
/// stride is 0 or larger than window, or the window longer than the model's context.
PerplexityResult perplexity(const LlamaModel& model, std::span<const std::int32_t> tokens,
                            std::size_t window, std::size_t stride);

}  // namespace pare::llm

#ifndef PARE_COMPILED_LIB
#include "pare/llm/generate-inl.hpp"
#endif
