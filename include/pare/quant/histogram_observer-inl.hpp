// SPDX-License-Identifier: Apache-2.0
// pare — definitions for quant/histogram_observer.hpp: compiled once into pare::compiled, or
// included by the header (core/config.hpp explains the two modes).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <numeric>
#include <span>
#include <vector>

#include "pare/quant/histogram_observer.hpp"

namespace pare {

namespace detail {

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

PARE_INLINE void Histogram::observe(std::span<const float> x) {
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
  const auto start_idx = static_cast<std::int64_t>(std::nearbyint((s.min - cmin) / hist_bin_width));

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

PARE_INLINE double Histogram::quantization_error(std::size_t start_bin, std::size_t end_bin,
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

PARE_INLINE std::size_t Histogram::finite_count(std::span<const float> x) noexcept {
  return static_cast<std::size_t>(
      std::count_if(x.begin(), x.end(), [](float v) { return std::isfinite(v); }));
}

PARE_INLINE void Histogram::combine(std::vector<float>& out, std::size_t downsample,
                                    std::int64_t start_idx) const {
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

PARE_INLINE Range Histogram::search(std::size_t dst_nbins) const {
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

PARE_INLINE void Entropy::observe(std::span<const float> x) {
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

PARE_INLINE double Entropy::clip_divergence(std::span<const double> hist, std::size_t i,
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

PARE_INLINE double Entropy::kl_divergence(std::span<const double> p, std::span<const double> q) {
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

PARE_INLINE bool Entropy::smooth(std::vector<double>& d, double eps) {
  const auto zeros = static_cast<std::size_t>(std::count(d.begin(), d.end(), 0.0));
  const std::size_t nonzeros = d.size() - zeros;
  if (nonzeros == 0) return false;
  const double eps1 = eps * static_cast<double>(zeros) / static_cast<double>(nonzeros);
  if (eps1 >= 1.0) return false;
  for (double& v : d) v += v == 0 ? eps : -eps1;
  return true;
}

PARE_INLINE double Entropy::threshold(std::size_t levels) const {
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

PARE_INLINE Range Entropy::threshold_range(std::size_t levels) const {
  const Range seen = state_.seen;
  if (seen.empty() || !std::isfinite(seen.lo) || !std::isfinite(seen.hi)) return seen;
  const auto t = static_cast<float>(threshold(levels));
  return {seen.lo < 0 ? -t : 0.0f, t};
}

}  // namespace pare
