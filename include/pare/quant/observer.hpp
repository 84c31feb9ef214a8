// SPDX-License-Identifier: Apache-2.0
// pare — calibration observers: choose the clipping range from data.
//
// When to use which:
//   MinMax               the full range seen; exact for weights, fragile for activations
//                        with rare outliers.
//   MovingAverageMinMax  exponential average of per-batch min/max: activations calibrated over
//                        many batches (PyTorch's default for QAT activations).
// Both skip NaNs; an infinity is kept, and the quantizer rejects the resulting range.
#pragma once

#include <algorithm>
#include <cmath>
#include <span>

#include "pare/quant/concepts.hpp"

namespace pare {

namespace detail {
[[nodiscard]] inline Range batch_min_max(std::span<const float> x) noexcept {
  Range r;
  for (float v : x) {
    if (std::isnan(v)) continue;
    r.lo = std::min(r.lo, v);
    r.hi = std::max(r.hi, v);
  }
  return r;
}
}  // namespace detail

/// The smallest and largest value over all observed batches (torch MinMaxObserver).
struct MinMax {
  void observe(std::span<const float> x) noexcept {
    const Range b = detail::batch_min_max(x);
    range_.lo = std::min(range_.lo, b.lo);
    range_.hi = std::max(range_.hi, b.hi);
  }
  [[nodiscard]] Range range() const noexcept { return range_; }

 private:
  Range range_;
};

/// Exponential moving average of each batch's min and max: the first batch sets the range, each
/// later one moves it by `averaging_constant` of the way (torch MovingAverageMinMaxObserver).
struct MovingAverageMinMax {
  constexpr MovingAverageMinMax() noexcept = default;
  explicit constexpr MovingAverageMinMax(float averaging_constant) noexcept
      : averaging_constant(averaging_constant) {}

  float averaging_constant = 0.01f;

  void observe(std::span<const float> x) noexcept {
    const Range b = detail::batch_min_max(x);
    if (b.empty()) return;
    if (range_.empty()) {
      range_ = b;
      return;
    }
    range_.lo = range_.lo + averaging_constant * (b.lo - range_.lo);
    range_.hi = range_.hi + averaging_constant * (b.hi - range_.hi);
  }
  [[nodiscard]] Range range() const noexcept { return range_; }

 private:
  Range range_;
};

static_assert(Observer<MinMax> && Observer<MovingAverageMinMax>);

}  // namespace pare
