// SPDX-License-Identifier: Apache-2.0
// pare — calibration observers: choose the clipping range from data.
//
// When to use which:
//   MinMax               the full range seen; exact for weights, fragile for activations
//                        with rare outliers.
//   MovingAverageMinMax  exponential average of per-batch min/max: activations calibrated over
//                        many batches (PyTorch's default for QAT activations).
//   Percentile           clips a fixed share of outliers on each side (default 0.01 %): a robust,
//                        cheap choice for activations when you don't want to tune anything.
//   Histogram            (histogram_observer.hpp) PyTorch's HistogramObserver: minimizes the L2
//                        quantization error over a 2048-bin histogram; PyTorch's default for
//                        static int8 activations. Grid-aware.
//   Entropy              (histogram_observer.hpp) TensorRT's KL-divergence calibration: int8
//                        activations with heavy tails. Grid-aware.
//   MseSearch            (search_observer.hpp) searches the range that minimizes the MSE of the
//                        fake-quantized values: weights at 4 bits and below. Grid-aware.
// All skip NaNs; an infinity is kept (the range becomes infinite) and the quantizer rejects it.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <span>
#include <vector>

#include "pare/core/config.hpp"
#include "pare/quant/concepts.hpp"
#include "pare/quant/detail/histogram.hpp"

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

/// The `lower` and `upper` percentiles (in percent) of all observed values.
///
///   pare::Percentile obs{.lower = 0.01, .upper = 99.99};
///
/// Up to `exact_limit` values are kept and the percentiles are exact (linear interpolation
/// between order statistics, as numpy.percentile and torch.quantile). Beyond that the values move
/// into a `histogram_bins`-bin histogram whose window doubles, merging bin pairs, whenever a batch
/// falls outside it; a percentile is then interpolated inside its bin and is off by at most one
/// bin width, 2 (max - min) / histogram_bins (0.05 % of the data's span with 4096 bins).
struct Percentile {
  double lower = 0.01;   ///< percent, in [0, 100]
  double upper = 99.99;  ///< percent, in [lower, 100]
  std::size_t exact_limit = std::size_t{1} << 20;
  std::size_t histogram_bins = 4096;  ///< even

  void observe(std::span<const float> x);

  [[nodiscard]] Range range() const;

  // Observer state. Public only so that Percentile stays an aggregate (designated
  // initializers); not part of the API.
  struct State {
    Range seen;                           ///< min and max, infinities included
    std::vector<float> values;            ///< finite values while exact
    detail::DoublingHistogram histogram;  ///< in use once values outgrew exact_limit
  } state_{};

 private:
  // Linear interpolation at position q (n - 1) of the sorted values; reorders v.
  static float exact_quantile(std::vector<float>& v, double q);
};

static_assert(Observer<MinMax> && Observer<MovingAverageMinMax> && Observer<Percentile>);

}  // namespace pare

#ifndef PARE_COMPILED_LIB
#include "pare/quant/observer-inl.hpp"
#endif
