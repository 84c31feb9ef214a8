// SPDX-License-Identifier: Apache-2.0
// pare — definitions for quant/detail/histogram.hpp: compiled once into pare::compiled, or
// included by the header (core/config.hpp explains the two modes).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <span>
#include <utility>
#include <vector>

#include "pare/quant/detail/histogram.hpp"

namespace pare::detail {

PARE_INLINE void DoublingHistogram::reset_window(double lo, double hi) {
  counts_.assign(bins_, 0.0);
  total_ = 0;
  origin_ = lo;
  width_ = hi > lo ? hi - lo : std::max(std::abs(lo) * 1e-6, 1e-30);
}

PARE_INLINE void DoublingHistogram::grow_to(double lo, double hi) {
  while (lo < origin_) double_window(/*to_the_right=*/false);
  while (hi > origin_ + width_) double_window(/*to_the_right=*/true);
}

PARE_INLINE void DoublingHistogram::add(std::span<const float> x) noexcept {
  const double scale = static_cast<double>(bins_) / width_;
  for (float v : x) {
    if (!std::isfinite(v)) continue;
    const double pos = (static_cast<double>(v) - origin_) * scale;
    if (pos < 0) continue;
    counts_[std::min(static_cast<std::size_t>(pos), bins_ - 1)] += 1;
    total_ += 1;
  }
}

PARE_INLINE double DoublingHistogram::quantile(double q) const noexcept {
  const double target = q * total_;
  double before = 0;
  for (std::size_t b = 0; b < bins_; ++b) {
    const double c = counts_[b];
    if (c > 0 && before + c >= target) {
      const double frac = std::clamp((target - before) / c, 0.0, 1.0);
      return origin_ + (static_cast<double>(b) + frac) * bin_width();
    }
    before += c;
  }
  return origin_ + width_;
}

PARE_INLINE void DoublingHistogram::double_window(bool to_the_right) {
  const std::size_t half = bins_ / 2;
  std::vector<double> merged(bins_, 0.0);
  const std::size_t offset = to_the_right ? 0 : half;
  for (std::size_t k = 0; k < half; ++k) merged[offset + k] = counts_[2 * k] + counts_[2 * k + 1];
  counts_ = std::move(merged);
  if (!to_the_right) origin_ -= width_;
  width_ *= 2;
}

}  // namespace pare::detail
