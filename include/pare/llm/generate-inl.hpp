// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <cmath>
#include <vector>

#include "pare/core/config.hpp"
#include "pare/core/error.hpp"
#include "pare/llm/generate.hpp"

namespace pare::llm {

PARE_INLINE GenerationStats generate(const LlamaModel& model, KvCache& cache,
                                     std::span<const std::int32_t> prompt, std::size_t max_new,
                                     Sampler& sampler,
                                     const std::function<bool(std::int32_t)>& on_token,
                                     std::size_t batch) {
  using clock = std::chrono::steady_clock;
  PARE_CHECK(!prompt.empty(), ArgumentError, "generate: the prompt is empty");
  PARE_CHECK(cache.length() + prompt.size() <= cache.capacity(), ArgumentError,
             "generate: ", prompt.size(), " prompt tokens do not fit the cache (", cache.length(),
             " of ", cache.capacity(), " used)");
  PARE_CHECK(batch > 0, ArgumentError, "generate: batch must be positive");
  GenerationStats s;
  s.prompt_tokens = prompt.size();
  std::vector<float> logits(model.config().vocab_size);
  const auto t0 = clock::now();
  for (std::size_t i = 0; i < prompt.size(); i += batch)
    model.forward(prompt.subspan(i, std::min(batch, prompt.size() - i)), cache, logits);
  std::int32_t next = max_new ? sampler(logits) : 0;
  const auto t1 = clock::now();
  s.prompt_seconds = std::chrono::duration<double>(t1 - t0).count();
  for (std::size_t k = 0; k < max_new; ++k) {
    ++s.generated;
    if (!on_token(next) || k + 1 == max_new || cache.length() >= cache.capacity()) break;
    model.forward({&next, 1}, cache, logits);
    next = sampler(logits);
  }
  s.generate_seconds = std::chrono::duration<double>(clock::now() - t1).count();
  return s;
}

PARE_INLINE double PerplexityResult::perplexity() const noexcept { return std::exp(mean_nll()); }

PARE_INLINE PerplexityResult perplexity(const LlamaModel& model,
                                        std::span<const std::int32_t> tokens, std::size_t window,
                                        std::size_t stride) {
  PARE_CHECK(stride > 0 && stride <= window, ArgumentError, "perplexity: stride ", stride,
             " must be in 1..window (", window, ")");
  PARE_CHECK(window <= model.config().context, ArgumentError, "perplexity: window ", window,
             " is longer than the model's context ", model.config().context);
  PerplexityResult r;
  const std::size_t L = tokens.size(), vocab = model.config().vocab_size;
  if (L < 2) return r;
  KvCache cache(model.config(), window);
  std::vector<float> logits;
  std::size_t scored_to = 1;  // tokens [0, scored_to) are scored (token 0 never is)
  for (std::size_t begin = 0; begin < L; begin += stride) {
    const std::size_t end = std::min(begin + window, L);
    cache.clear();
    logits.resize((end - begin) * vocab);
    model.forward(tokens.subspan(begin, end - begin), cache, logits);
    for (std::size_t t = std::max(scored_to, begin + 1); t < end; ++t) {
      const float* row = logits.data() + (t - 1 - begin) * vocab;
      float m = row[0];
      for (std::size_t v = 1; v < vocab; ++v) m = std::max(m, row[v]);
      double z = 0;
      for (std::size_t v = 0; v < vocab; ++v) z += std::exp(double(row[v]) - double(m));
      r.nll_sum += std::log(z) + double(m) - double(row[static_cast<std::size_t>(tokens[t])]);
      ++r.scored;
    }
    scored_to = std::max(scored_to, end);
    if (end == L) break;
  }
  return r;
}

}  // namespace pare::llm
