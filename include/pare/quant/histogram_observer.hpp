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
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <numeric>
#include <span>
#include <vector>

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

/// torch.histc on float32: bins over [lo, hi] found by (x - lo) * bins / (hi - lo) in float,
/// the last bin closed; values outside are dropped. @pre lo < hi
inline void histc_add(std::span<const float> x, float lo, float hi, std::span<float> counts) {
  const auto n = static_cast<std::int64_t>(counts.size());
  const float span = hi - lo;
  for (float v : x) {
    if (!(v >= lo && v <= hi)) continue;  // NaNs too
    auto pos = static_cast<std::int64_t>((v - lo) * static_cast<float>(n) / span);
    if (pos >= n) pos = n - 1;
    counts[static_cast<std::size_t>(pos)] += 1.0f;
  }
}

/// a · b rounded to float32 before it meets an addition. PyTorch rounds every tensor op; a
/// compiler that fuses a product into an add (FMA, e.g. GCC's -ffp-contract=fast default in GNU
/// mode with -march=native) changes the last bit, and with it which bin the search stops at.
[[nodiscard]] inline float mul32(float a, float b) noexcept {
  volatile float p = a * b;
  return p;
}

/// c10's div_floor for floats (torch.div(a, b, rounding_mode='floor')), which rounds the
/// quotient of an exact remainder, unlike floor(a / b).
[[nodiscard]] inline float div_floor(float a, float b) noexcept {
  if (b == 0) return a / b;
  const float mod = std::fmod(a, b);
  float div = (a - mod) / b;
  if (mod != 0 && (b < 0) != (mod < 0)) div -= 1.0f;
  if (div == 0) return std::copysign(0.0f, a / b);
  float fl = std::floor(div);
  if (div - fl > 0.5f) fl += 1.0f;
  return fl;
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

  void observe(std::span<const float> x) {
    const Range b = detail::batch_min_max(x);
    if (b.empty()) return;
    if (!std::isfinite(b.lo) || !std::isfinite(b.hi)) {
      state_.infinite.lo = std::min(state_.infinite.lo, b.lo);
      state_.infinite.hi = std::max(state_.infinite.hi, b.hi);
      return;
    }
    auto& s = state_;
    if (s.counts.size() != bins) s.counts.assign(bins, 0.0f);
    const bool uninitialized = s.min > s.max;
    if (uninitialized || s.min == s.max) {
      // PyTorch restarts from this batch when everything before was one value.
      s.min = b.lo;
      s.max = b.hi;
      std::fill(s.counts.begin(), s.counts.end(), 0.0f);
      if (b.lo < b.hi)
        detail::histc_add(x, b.lo, b.hi, s.counts);
      else
        s.counts[0] = static_cast<float>(finite_count(x));
      return;
    }
    float cmin = std::min(b.lo, s.min);
    float cmax = std::max(b.hi, s.max);
    // _adjust_min_max, in float32 as PyTorch computes it.
    const float hist_bin_width = (s.max - s.min) / static_cast<float>(bins * upsample_rate);
    const float coarse = detail::mul32(static_cast<float>(bins), hist_bin_width);
    const auto downsample = static_cast<std::size_t>(std::ceil((cmax - cmin) / coarse));
    const float e = detail::mul32(static_cast<float>(downsample), coarse) - (cmax - cmin);
    cmax = cmax + e;
    const auto start_idx =
        static_cast<std::int64_t>(std::nearbyint((s.min - cmin) / hist_bin_width));

    std::vector<float> combined(bins, 0.0f);
    detail::histc_add(x, cmin, cmax, combined);
    if (cmin == s.min && cmax == s.max) {
      for (std::size_t i = 0; i < bins; ++i) combined[i] += s.counts[i];
    } else {
      combine(combined, downsample, start_idx);
    }
    s.counts = std::move(combined);
    s.min = cmin;
    s.max = cmax;
  }

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
                                          std::size_t dst_nbins) const {
    const auto& s = state_;
    const double bin_width_d =
        (static_cast<double>(s.max) - static_cast<double>(s.min)) / static_cast<double>(bins);
    const double dst_d =
        bin_width_d * static_cast<double>(end_bin - start_bin + 1) / static_cast<double>(dst_nbins);
    if (dst_d == 0.0) return 0.0;
    const auto bin_width = static_cast<float>(bin_width_d);
    const auto dst = static_cast<float>(dst_d);
    const auto half = static_cast<float>(dst_d / 2);
    const auto neg_half = static_cast<float>(-dst_d / 2);
    const auto last = static_cast<float>(dst_nbins - 1);
    using detail::mul32;
    auto cube = [](float v) { return mul32(mul32(v, v), v); };
    auto norm = [&](float begin, float end, float density) {
      return mul32(density, (cube(end) - cube(begin)) / 3.0f);
    };
    const float inner = (cube(half) - cube(neg_half)) / 3.0f;
    double total = 0;
    for (std::size_t i = 0; i < bins; ++i) {
      const float begin = mul32(
          static_cast<float>(static_cast<std::int64_t>(i) - static_cast<std::int64_t>(start_bin)),
          bin_width);
      const float end = begin + bin_width;
      const float dst_of_begin = std::clamp(detail::div_floor(begin, dst), 0.0f, last);
      const float dst_of_end = std::clamp(detail::div_floor(end, dst), 0.0f, last);
      const float density = s.counts[i] / bin_width;
      float n = norm(begin - mul32(dst_of_begin + 0.5f, dst), half, density);
      n += mul32(dst_of_end - dst_of_begin - 1.0f, mul32(density, inner));
      n += norm(neg_half, end - (mul32(dst_of_end, dst) + half), density);
      total += n;
    }
    return static_cast<double>(static_cast<float>(total));
  }

  // Observer state. Public only so that Histogram stays an aggregate; not part of the API.
  struct State {
    std::vector<float> counts;
    float min = std::numeric_limits<float>::infinity();
    float max = -std::numeric_limits<float>::infinity();
    Range infinite;  ///< batch ranges that held an infinity
  } state_{};

 private:
  static std::size_t finite_count(std::span<const float> x) noexcept {
    return static_cast<std::size_t>(
        std::count_if(x.begin(), x.end(), [](float v) { return std::isfinite(v); }));
  }

  // _combine_histograms: spreads the old counts over the combined range and adds them.
  void combine(std::vector<float>& out, std::size_t downsample, std::int64_t start_idx) const {
    const auto& old = state_.counts;
    const double ups = static_cast<double>(upsample_rate);
    std::vector<double> prefix(bins + 1, 0.0);
    for (std::size_t k = 0; k < bins; ++k) prefix[k + 1] = prefix[k] + old[k];
    const auto fine = static_cast<std::int64_t>(bins * upsample_rate);
    // The integral of the upsampled old histogram (placed at start_idx) over fine cells [0, p).
    auto integral = [&](std::int64_t p) {
      const std::int64_t m = std::clamp<std::int64_t>(p - start_idx, 0, fine);
      const auto k = static_cast<std::size_t>(m / static_cast<std::int64_t>(upsample_rate));
      const auto r = static_cast<double>(m % static_cast<std::int64_t>(upsample_rate));
      return ups * prefix[k] + (k < bins ? r * old[k] : 0.0);
    };
    double prev = 0;  // PyTorch keeps the shifted integral in float32
    for (std::size_t j = 0; j < bins; ++j) {
      const double cur = integral(static_cast<std::int64_t>((j + 1) * downsample));
      out[j] += static_cast<float>((cur - prev) / ups);
      prev = static_cast<double>(static_cast<float>(cur));
    }
  }

  Range search(std::size_t dst_nbins) const {
    const auto& s = state_;
    if (!state_.infinite.empty()) {
      Range r = state_.infinite;
      if (s.min <= s.max) r = {std::min(r.lo, s.min), std::max(r.hi, s.max)};
      return r;
    }
    if (s.min > s.max) return {};
    if (s.min == s.max) return {s.min, s.max};
    // _non_linear_param_search
    std::vector<float> csum(bins);
    double acc = 0, total_d = 0;
    for (std::size_t i = 0; i < bins; ++i) {
      acc += s.counts[i];
      csum[i] = static_cast<float>(acc);
      total_d += s.counts[i];
    }
    const double total = static_cast<float>(total_d);
    constexpr double stepsize = 1e-5;
    double alpha = 0.0, beta = 1.0;
    std::size_t start_bin = 0, end_bin = bins - 1;
    double norm_min = std::numeric_limits<double>::infinity();
    while (alpha < beta) {
      const double next_alpha = alpha + stepsize;
      const double next_beta = beta - stepsize;
      // PyTorch compares a float32 tensor with a Python float: the comparison is in float32.
      const auto lo_mass = static_cast<float>(next_alpha * total);
      const auto hi_mass = static_cast<float>(next_beta * total);
      std::size_t l = start_bin, r = end_bin;
      while (l < end_bin && csum[l] < lo_mass) ++l;
      while (r > start_bin && csum[r] > hi_mass) --r;
      std::size_t next_start = start_bin, next_end = end_bin;
      if (l - start_bin > end_bin - r) {
        next_start = l;
        alpha = next_alpha;
      } else {
        next_end = r;
        beta = next_beta;
      }
      if (next_start == start_bin && next_end == end_bin) continue;
      const double norm = quantization_error(next_start, next_end, dst_nbins);
      if (norm > norm_min) break;
      norm_min = norm;
      start_bin = next_start;
      end_bin = next_end;
    }
    const float bin_width = (s.max - s.min) / static_cast<float>(bins);
    return {s.min + detail::mul32(bin_width, static_cast<float>(start_bin)),
            s.min + detail::mul32(bin_width, static_cast<float>(end_bin + 1))};
  }
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

  void observe(std::span<const float> x) {
    const Range b = detail::batch_min_max(x);
    if (b.empty()) return;
    auto& s = state_;
    s.seen.lo = std::min(s.seen.lo, b.lo);
    s.seen.hi = std::max(s.seen.hi, b.hi);
    if (!std::isfinite(b.lo) || !std::isfinite(b.hi)) return;
    const double amax = std::max(-static_cast<double>(b.lo), static_cast<double>(b.hi));
    std::vector<float> mags(x.size());
    std::transform(x.begin(), x.end(), mags.begin(), [](float v) { return std::abs(v); });
    if (s.histogram.empty()) {
      s.histogram = detail::DoublingHistogram(bins + bins % 2);
      s.histogram.reset_window(0.0, amax);
    }
    s.histogram.grow_to(0.0, amax);
    s.histogram.add(mags);
  }

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
                                              std::size_t levels) {
    // As MXNet's `_get_optimal_threshold`: Q's mass comes from the clipped bins, which bins
    // count as non-empty from P (outliers included).
    std::vector<double> p(hist.begin(), hist.begin() + static_cast<std::ptrdiff_t>(i));
    std::vector<double> q(i, 0.0);
    p[i - 1] += std::accumulate(hist.begin() + static_cast<std::ptrdiff_t>(i), hist.end(), 0.0);
    const std::size_t merged = i / levels;
    for (std::size_t j = 0; j < levels; ++j) {
      const std::size_t begin = j * merged;
      const std::size_t end = j + 1 == levels ? i : begin + merged;
      double mass = 0;
      std::size_t nonzero = 0;
      for (std::size_t k = begin; k < end; ++k) {
        mass += hist[k];
        nonzero += p[k] != 0;
      }
      if (nonzero == 0) continue;
      for (std::size_t k = begin; k < end; ++k)
        q[k] = p[k] != 0 ? mass / static_cast<double>(nonzero) : 0.0;
    }
    if (!smooth(p) || !smooth(q)) return std::numeric_limits<double>::infinity();
    return kl_divergence(p, q);
  }

  /// KL(P ‖ Q) = Σ p log(p / q) of the normalized distributions, over p > 0; infinite where
  /// p > 0 = q. @pre p and q have the same size and positive sums
  [[nodiscard]] static double kl_divergence(std::span<const double> p, std::span<const double> q) {
    const double sp = std::accumulate(p.begin(), p.end(), 0.0);
    const double sq = std::accumulate(q.begin(), q.end(), 0.0);
    double kl = 0;
    for (std::size_t k = 0; k < p.size(); ++k) {
      if (p[k] <= 0) continue;
      if (q[k] <= 0) return std::numeric_limits<double>::infinity();
      const double pk = p[k] / sp, qk = q[k] / sq;
      kl += pk * std::log(pk / qk);
    }
    return kl;
  }

  /// MXNet's `_smooth_distribution`: every zero becomes eps, the non-zeros pay for it equally
  /// (eps · zeros / nonzeros each). False when all are zero or the non-zeros can't pay.
  static bool smooth(std::vector<double>& d, double eps = 1e-4) {
    const auto zeros = static_cast<std::size_t>(std::count(d.begin(), d.end(), 0.0));
    const std::size_t nonzeros = d.size() - zeros;
    if (nonzeros == 0) return false;
    const double eps1 = eps * static_cast<double>(zeros) / static_cast<double>(nonzeros);
    if (eps1 >= 1.0) return false;
    for (double& v : d) v += v == 0 ? eps : -eps1;
    return true;
  }

  /// The KL threshold t (see above) for `levels` levels; 0 before any data.
  [[nodiscard]] double threshold(std::size_t levels) const {
    const auto& h = state_.histogram;
    if (h.empty() || h.total() == 0) return 0.0;
    const auto counts = h.counts();
    levels = std::clamp<std::size_t>(levels, 1, counts.size());
    std::size_t best = counts.size();
    double best_kl = std::numeric_limits<double>::infinity();
    for (std::size_t i = levels; i <= counts.size(); ++i) {
      const double kl = clip_divergence(counts, i, levels);
      if (kl < best_kl) {
        best_kl = kl;
        best = i;
      }
    }
    return static_cast<double>(best) * h.bin_width();
  }

  // Observer state. Public only so that Entropy stays an aggregate; not part of the API.
  struct State {
    Range seen;
    detail::DoublingHistogram histogram;
  } state_{};

 private:
  Range threshold_range(std::size_t levels) const {
    const Range seen = state_.seen;
    if (seen.empty() || !std::isfinite(seen.lo) || !std::isfinite(seen.hi)) return seen;
    const auto t = static_cast<float>(threshold(levels));
    return {seen.lo < 0 ? -t : 0.0f, t};
  }
};

static_assert(Observer<Histogram> && Observer<Entropy>);
static_assert(GridAwareObserver<Histogram, Symmetric> && GridAwareObserver<Entropy, Affine>);

}  // namespace pare
