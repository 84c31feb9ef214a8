// SPDX-License-Identifier: Apache-2.0
// pare — histogram observers: collect a histogram over calibration batches, then search it for
// the clipping range that loses least.
//
// When to use which:
//   Histogram  PyTorch's HistogramObserver: minimizes the L2 error of quantizing the histogram's
//              mass, clipping outliers only when that pays. The safe default for static int8
//              activations; matches PyTorch's calibration of the same data.
//   Entropy    TensorRT's KL-divergence calibration on |x|: keeps the shape of the distribution
//              rather than its L2 error, and clips heavy tails harder. int8 activations after
//              GELU/softmax-like layers with long tails; symmetric schemes.
// Both are grid-aware (GridAwareObserver): the range depends on how many codes there are.
// `range()` is the range for 8-bit codes. NaNs are skipped; an infinity makes the range
// infinite, and the quantizer rejects it.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

#include "pare/core/config.hpp"
#include "pare/quant/concepts.hpp"
#include "pare/quant/detail/histogram.hpp"
#include "pare/quant/observer.hpp"
#include "pare/quant/scheme.hpp"

namespace pare {

namespace detail {

/// The number of codes a scheme uses out of a format's code range.
template <QuantScheme S>
[[nodiscard]] std::size_t codes_used(const S& scheme, CodeRange full) {
  const CodeRange c = scheme.code_range(full);
  return static_cast<std::size_t>(std::max(c.qmax - c.qmin + 1, 2));
}

}  // namespace detail

/// PyTorch's HistogramObserver (torch.ao.quantization, torch 1.13), step for step in float32:
///
/// - the first batch is binned into `bins` bins over its [min, max];
/// - a later batch that widens the range is binned over the widened range, stretched so that the
///   old bin width divides it (`_adjust_min_max`: only the max moves), and the old histogram is
///   added after upsampling each old bin into `upsample_rate` equal parts
///   (`_combine_histograms`: the mass is taken as uniform inside a bin);
/// - `range` runs `_non_linear_param_search`: the bin range [start, end] shrinks from the side
///   holding fewer quantile steps of 1e-5, while the L2 error of quantizing the histogram's
///   mass into `dst_nbins` equal bins over [start, end] keeps falling
///   (`_compute_quantization_error`, mass uniform inside each bin, error measured to the
///   destination bin's center).
///
/// `dst_nbins` is the number of codes the scheme uses (256 for 8 bits, as PyTorch; 16 for
/// 4 bits, where PyTorch 1.13 would still use 256). One difference from torch 1.13: PyTorch
/// passes `int(min)` and `int(max)` to torch.histc (truncating the histogram's range to integers,
/// fixed in later releases); pare bins over the float range, which is what the rest of the
/// algorithm assumes. On data whose range ends are integers both agree.
///
///   pare::Histogram obs;                 // 2048 bins, upsample rate 128
///   for (auto& batch : calibration) obs.observe(batch);
///   auto r = obs.range(pare::Affine{}, pare::code_range_of<pare::UInt<8>>);
struct Histogram {
  std::size_t bins = 2048;
  std::size_t upsample_rate = 128;

  void observe(std::span<const float> x);

  /// The range for 8-bit codes (256 destination bins), as PyTorch's default.
  [[nodiscard]] Range range() const { return search(256); }

  /// The range for the codes `scheme` uses out of `codes`.
  template <QuantScheme S>
  [[nodiscard]] Range range(const S& scheme, CodeRange codes) const {
    return search(detail::codes_used(scheme, codes));
  }

  /// The histogram's range and counts (for inspection and tests).
  [[nodiscard]] Range histogram_range() const noexcept { return {state_.min, state_.max}; }
  [[nodiscard]] std::span<const float> counts() const noexcept { return state_.counts; }

  /// The L2 error PyTorch assigns to clipping at bins [start_bin, end_bin] with `dst_nbins`
  /// destination bins (`_compute_quantization_error`, float32 element arithmetic).
  [[nodiscard]] double quantization_error(std::size_t start_bin, std::size_t end_bin,
                                          std::size_t dst_nbins) const;

  // Observer state. Public only so that Histogram stays an aggregate; not part of the API.
  struct State {
    std::vector<float> counts;
    float min = std::numeric_limits<float>::infinity();
    float max = -std::numeric_limits<float>::infinity();
    Range infinite;  ///< batch ranges that held an infinity
  } state_{};

 private:
  static std::size_t finite_count(std::span<const float> x) noexcept;

  // _combine_histograms: spreads the old counts over the combined range and adds them.
  void combine(std::vector<float>& out, std::size_t downsample, std::int64_t start_idx) const;

  Range search(std::size_t dst_nbins) const;
};

/// TensorRT's entropy calibration: a `bins`-bin histogram of |x|, and the threshold t that
/// minimizes KL(P ‖ Q), where for a candidate of i bins (i from the number of levels up to
/// `bins`) P is the first i bins with everything beyond folded into bin i - 1, and Q is the
/// same bins merged into `levels` groups and spread back evenly over the non-empty bins of each
/// group; both are smoothed (zeros get 1e-4, taken from the non-zero bins) before the KL
/// (MXNet's `_get_optimal_threshold`, the open implementation of TensorRT's calibrator).
/// t is the right edge of bin i. The range is [-t, t], or [0, t] when nothing negative was seen.
///
/// `levels` is half the codes the scheme uses (128 for int8), or all of them when the data was
/// one-sided and the scheme affine. The histogram's window starts at the first batch's max |x|
/// and doubles (merging bin pairs, exact) when a later batch exceeds it; TensorRT collects the
/// max in a first pass instead, so after growth pare's bins are up to twice as coarse.
struct Entropy {
  std::size_t bins = 2048;  ///< even

  void observe(std::span<const float> x);

  /// The range for int8 (128 levels).
  [[nodiscard]] Range range() const { return threshold_range(128); }

  template <QuantScheme S>
  [[nodiscard]] Range range(const S& scheme, CodeRange codes) const {
    const std::size_t used = detail::codes_used(scheme, codes);
    const bool one_sided = state_.seen.lo >= 0 && !scheme_is_symmetric<S>;
    return threshold_range(one_sided ? used : used / 2);
  }

  /// KL(P ‖ Q) of clipping `hist` at `i` bins with `levels` quantization levels (see above).
  /// Infinite when P has no mass. @pre levels <= i <= hist.size()
  [[nodiscard]] static double clip_divergence(std::span<const double> hist, std::size_t i,
                                              std::size_t levels);

  /// KL(P ‖ Q) = Σ p log(p / q) of the normalized distributions, over p > 0; infinite where
  /// p > 0 = q. @pre p and q have the same size and positive sums
  [[nodiscard]] static double kl_divergence(std::span<const double> p, std::span<const double> q);

  /// MXNet's `_smooth_distribution`: every zero becomes eps, the non-zeros pay for it equally
  /// (eps · zeros / nonzeros each). False when all are zero or the non-zeros can't pay.
  static bool smooth(std::vector<double>& d, double eps = 1e-4);

  /// The KL threshold t (see above) for `levels` levels; 0 before any data.
  [[nodiscard]] double threshold(std::size_t levels) const;

  // Observer state. Public only so that Entropy stays an aggregate; not part of the API.
  struct State {
    Range seen;
    detail::DoublingHistogram histogram;
  } state_{};

 private:
  Range threshold_range(std::size_t levels) const;
};

static_assert(Observer<Histogram> && Observer<Entropy>);
static_assert(GridAwareObserver<Histogram, Symmetric> && GridAwareObserver<Entropy, Affine>);

}  // namespace pare

#ifndef PARE_COMPILED_LIB
#include "pare/quant/histogram_observer-inl.hpp"
#endif
