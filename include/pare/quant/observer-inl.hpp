// SPDX-License-Identifier: Apache-2.0
// pare — definitions for quant/observer.hpp: compiled once into pare::compiled, or included by the
// header (core/config.hpp explains the two modes).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <span>
#include <vector>

#include "pare/quant/observer.hpp"

namespace pare {

PARE_INLINE void Percentile::observe(std::span<const float> x) {
  const Range b = detail::batch_min_max(x);
  if (b.empty()) return;
  state_.seen.lo = std::min(state_.seen.lo, b.lo);
  state_.seen.hi = std::max(state_.seen.hi, b.hi);
  if (!std::isfinite(b.lo) || !std::isfinite(b.hi)) return;  // range() reports it
  auto& values = state_.values;
  auto& hist = state_.histogram;
  if (hist.empty() && values.size() + x.size() <= exact_limit) {
    for (float v : x)
      if (std::isfinite(v)) values.push_back(v);
    return;
  }
  if (hist.empty()) {
    hist = detail::DoublingHistogram(histogram_bins + histogram_bins % 2);
    const Range all = detail::batch_min_max(values);
    hist.reset_window(std::min(all.lo, b.lo), std::max(all.hi, b.hi));
    hist.add(values);
    values = {};
  }
  hist.grow_to(b.lo, b.hi);
  hist.add(x);
}

PARE_INLINE Range Percentile::range() const {
  const Range seen = state_.seen;
  if (seen.empty() || !std::isfinite(seen.lo) || !std::isfinite(seen.hi)) return seen;
  const double ql = std::clamp(lower, 0.0, 100.0) / 100.0;
  const double qh = std::clamp(upper, lower, 100.0) / 100.0;
  if (!state_.histogram.empty()) {
    const auto& h = state_.histogram;
    // Never outside what was seen: the bin containing the minimum starts below it.
    return {std::clamp(static_cast<float>(h.quantile(ql)), seen.lo, seen.hi),
            std::clamp(static_cast<float>(h.quantile(qh)), seen.lo, seen.hi)};
  }
  std::vector<float> v = state_.values;
  return {exact_quantile(v, ql), exact_quantile(v, qh)};
}

PARE_INLINE float Percentile::exact_quantile(std::vector<float>& v, double q) {
  const double pos = q * static_cast<double>(v.size() - 1);
  const auto i = static_cast<std::size_t>(pos);
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(i), v.end());
  const double a = v[i];
  if (i + 1 >= v.size()) return static_cast<float>(a);
  const double b = *std::min_element(v.begin() + static_cast<std::ptrdiff_t>(i) + 1, v.end());
  return static_cast<float>(a + (pos - static_cast<double>(i)) * (b - a));
}

}  // namespace pare
