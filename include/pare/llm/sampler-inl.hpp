// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <algorithm>
#include <cmath>

#include "pare/core/config.hpp"
#include "pare/core/error.hpp"
#include "pare/llm/sampler.hpp"

namespace pare::llm {

PARE_INLINE Sampler::Sampler(SamplingOptions options) : o_(options), rng_(options.seed) {
  PARE_CHECK(std::isfinite(o_.temperature) && o_.temperature >= 0, ArgumentError,
             "sampler: temperature ", o_.temperature, " must be finite and >= 0");
  PARE_CHECK(o_.top_p > 0 && o_.top_p <= 1, ArgumentError, "sampler: top_p ", o_.top_p,
             " must be in (0, 1]");
  PARE_CHECK(o_.min_p >= 0 && o_.min_p < 1, ArgumentError, "sampler: min_p ", o_.min_p,
             " must be in [0, 1)");
}

PARE_INLINE std::int32_t Sampler::operator()(std::span<const float> logits) {
  PARE_CHECK(!logits.empty(), ArgumentError, "sampler: no logits");
  std::size_t best = 0;
  for (std::size_t i = 0; i < logits.size(); ++i) {
    PARE_CHECK(!std::isnan(logits[i]), ArgumentError, "sampler: logit ", i, " is NaN");
    if (logits[i] > logits[best]) best = i;
  }
  if (o_.temperature == 0.0f || o_.top_k == 1) return static_cast<std::int32_t>(best);

  cand_.clear();
  cand_.reserve(logits.size());
  for (std::size_t i = 0; i < logits.size(); ++i)
    cand_.emplace_back(logits[i], static_cast<std::int32_t>(i));
  auto by_logit = [](const auto& a, const auto& b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
  };
  std::size_t keep = cand_.size();
  if (o_.top_k > 0 && o_.top_k < keep) {
    std::partial_sort(cand_.begin(), cand_.begin() + static_cast<std::ptrdiff_t>(o_.top_k),
                      cand_.end(), by_logit);
    keep = o_.top_k;
    cand_.resize(keep);
  } else {
    std::sort(cand_.begin(), cand_.end(), by_logit);
  }
  // Probabilities of the scaled logits (max first, so exp never overflows).
  const double top = cand_[0].first;
  std::vector<double> p(keep);
  double sum = 0;
  for (std::size_t i = 0; i < keep; ++i)
    sum += p[i] = std::exp((double(cand_[i].first) - top) / double(o_.temperature));
  std::size_t n = keep;
  if (o_.top_p < 1.0f) {
    double acc = 0;
    for (std::size_t i = 0; i < keep; ++i) {
      acc += p[i] / sum;
      if (acc >= double(o_.top_p)) {
        n = i + 1;
        break;
      }
    }
  }
  if (o_.min_p > 0.0f)
    while (n > 1 && p[n - 1] < double(o_.min_p) * p[0]) --n;
  double total = 0;
  for (std::size_t i = 0; i < n; ++i) total += p[i];
  double u = double(rng_.uniform()) * total;
  for (std::size_t i = 0; i < n; ++i) {
    u -= p[i];
    if (u < 0) return cand_[i].second;
  }
  return cand_[n - 1].second;
}

}  // namespace pare::llm
