// SPDX-License-Identifier: Apache-2.0
// pare — choosing the next token from logits: greedy, or sampled with temperature, top-k,
// top-p (nucleus) and min-p, from a seeded generator (the same seed gives the same text).
//
//     pare::llm::Sampler greedy;                                    // argmax
//     pare::llm::Sampler s({.temperature = 0.8f, .top_k = 40, .top_p = 0.95f, .seed = 7});
//     std::int32_t next = s(logits);
//
// Order, as llama.cpp's default chain applies them: top-k, then top-p, then min-p, on the
// temperature-scaled distribution; then one draw.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "pare/core/random.hpp"

namespace pare::llm {

struct SamplingOptions {
  float temperature = 0.0f;  ///< 0: greedy (argmax, the lowest id on ties)
  std::size_t top_k = 0;     ///< keep the k most likely tokens; 0: all
  float top_p = 1.0f;        ///< keep the smallest set whose probability reaches top_p
  float min_p = 0.0f;        ///< drop tokens less likely than min_p × the most likely one
  std::uint64_t seed = 1;
};

class Sampler {
 public:
  /// ArgumentError for a negative or non-finite temperature, top_p outside (0, 1], min_p
  /// outside [0, 1).
  explicit Sampler(SamplingOptions options = {});

  /// The next token; ArgumentError when logits are empty or hold a NaN.
  [[nodiscard]] std::int32_t operator()(std::span<const float> logits);

  [[nodiscard]] const SamplingOptions& options() const noexcept { return o_; }

 private:
  SamplingOptions o_;
  Rng rng_;
  std::vector<std::pair<float, std::int32_t>> cand_;
};

}  // namespace pare::llm

#ifndef PARE_COMPILED_LIB
#include "pare/llm/sampler-inl.hpp"
#endif
