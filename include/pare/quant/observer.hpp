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

  void observe(std::span<const float> x) {
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

  [[nodiscard]] Range range() const {
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

  // Observer state. Public only so that Percentile stays an aggregate (designated
  // initializers); not part of the API.
  struct State {
    Range seen;                           ///< min and max, infinities included
    std::vector<float> values;            ///< finite values while exact
    detail::DoublingHistogram histogram;  ///< in use once values outgrew exact_limit
  } state_{};

 private:
  // Linear interpolation at position q (n - 1) of the sorted values; reorders v.
  static float exact_quantile(std::vector<float>& v, double q) {
    const double pos = q * static_cast<double>(v.size() - 1);
    const auto i = static_cast<std::size_t>(pos);
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(i), v.end());
    const double a = v[i];
    if (i + 1 >= v.size()) return static_cast<float>(a);
    const double b = *std::min_element(v.begin() + static_cast<std::ptrdiff_t>(i) + 1, v.end());
    return static_cast<float>(a + (pos - static_cast<double>(i)) * (b - a));
  }
};

static_assert(Observer<MinMax> && Observer<MovingAverageMinMax> && Observer<Percentile>);

}  // namespace pare
