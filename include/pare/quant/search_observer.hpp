// SPDX-License-Identifier: Apache-2.0
// pare — search observers: try clipping ranges on the data itself and keep the best.
//
// When to use which:
//   MseSearch  minimizes the mean squared error of the fake-quantized values for the actual
//              grid and scheme: weights at 4 bits and below (per channel or per group), where
//              clipping a few large weights buys a finer step for all others. It keeps every
//              observed value, so it suits weights (one unit at a time), not activation streams.
// Grid-aware (GridAwareObserver); `range()` is the range for Int<8> with a symmetric scheme.
// NaNs are skipped; an infinity makes the range infinite, and the quantizer rejects it.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <span>
#include <vector>

#include "pare/quant/concepts.hpp"
#include "pare/quant/observer.hpp"
#include "pare/quant/scheme.hpp"

namespace pare {

/// Grid search over shrink factors of the min-max range [lo, hi] (widened to include 0): the
/// candidates are α·[lo, hi] for `candidates` values of α evenly spaced in [min_fraction, 1],
/// scored by Σ (fake_quant(x) − x)² with exactly the scale and zero point the scheme gives for
/// that range. For a symmetric scheme only max |x| matters, so that is the whole search. For an
/// affine scheme the best common α is then refined by coordinate descent: lo's factor is searched
/// with hi fixed, then hi's with lo fixed, `refine_rounds` times (a joint 100 × 100 grid would
/// cost 20× more evaluations for a gain we could not measure on Gaussian or skewed weights).
/// α = 1 (the min-max range) is always a candidate and wins ties, so the result is never worse
/// than MinMax in MSE. Cost: O(candidates · (1 + 2 · refine_rounds) · N) per unit.
///
///   using Q = pare::Quantizer<pare::Int<4>, pare::Symmetric, pare::PerGroup<128>,
///   pare::MseSearch>;
struct MseSearch {
  std::size_t candidates = 100;
  float min_fraction = 0.3f;
  std::size_t refine_rounds = 2;

  void observe(std::span<const float> x) {
    const Range b = detail::batch_min_max(x);
    if (b.empty()) return;
    state_.seen.lo = std::min(state_.seen.lo, b.lo);
    state_.seen.hi = std::max(state_.seen.hi, b.hi);
    for (float v : x)
      if (std::isfinite(v)) state_.values.push_back(v);
  }

  [[nodiscard]] Range range() const { return range(Symmetric{}, CodeRange{-128, 127}); }

  template <QuantScheme S>
  [[nodiscard]] Range range(const S& scheme, CodeRange codes) const {
    const Range seen = state_.seen;
    if (seen.empty() || !std::isfinite(seen.lo) || !std::isfinite(seen.hi)) return seen;
    const float lo = std::min(seen.lo, 0.0f), hi = std::max(seen.hi, 0.0f);
    const std::size_t n = std::max<std::size_t>(candidates, 2);
    // Largest α first, so that ties keep the wider range.
    auto alpha = [&](std::size_t k) {
      return 1.0f - (1.0f - min_fraction) * static_cast<float>(k) / static_cast<float>(n - 1);
    };
    Range best{lo, hi};
    double best_err = error(scheme, codes, best);
    for (std::size_t k = 1; k < n; ++k) {
      const Range r{alpha(k) * lo, alpha(k) * hi};
      const double e = error(scheme, codes, r);
      if (e < best_err) {
        best_err = e;
        best = r;
      }
    }
    if constexpr (!scheme_is_symmetric<S>) {
      for (std::size_t round = 0; round < refine_rounds; ++round) {
        const Range before = best;
        for (int side = 0; side < 2; ++side) {
          for (std::size_t k = 0; k < n; ++k) {
            Range r = best;
            (side == 0 ? r.lo : r.hi) = alpha(k) * (side == 0 ? lo : hi);
            const double e = error(scheme, codes, r);
            if (e < best_err) {
              best_err = e;
              best = r;
            }
          }
        }
        if (best == before) break;
      }
    }
    return best;
  }

  /// Σ (fake_quant(x) − x)² over the observed values for range r, as the quantizer would
  /// quantize them.
  template <QuantScheme S>
  [[nodiscard]] double error(const S& scheme, CodeRange codes, Range r) const {
    const QuantParams p = scheme.params(r, codes);
    const CodeRange used = scheme.code_range(codes);
    const float inv = 1.0f / p.scale;
    double sum = 0;
    for (float v : state_.values) {
      const double d =
          static_cast<double>(dequantize_value(quantize_value(v, inv, p.zero_point, used), p)) - v;
      sum += d * d;
    }
    return sum;
  }

  // Observer state. Public only so that MseSearch stays an aggregate; not part of the API.
  struct State {
    Range seen;
    std::vector<float> values;
  } state_{};
};

static_assert(Observer<MseSearch>);
static_assert(GridAwareObserver<MseSearch, Symmetric> && GridAwareObserver<MseSearch, Affine>);

}  // namespace pare
