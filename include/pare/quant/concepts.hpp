// SPDX-License-Identifier: Apache-2.0
// pare — the contracts of quantization policies. A user's struct that satisfies one of these
// concepts works everywhere the built-in policy does:
//
//   Quantizer<Format, Scheme, Granularity, Observer>
//     Format       the code grid: which integers a weight may become (Int<4>, UInt<8>, ...)
//     Scheme       how a clipping range becomes scale and zero point (Symmetric, Affine)
//     Granularity  which elements share a scale (PerTensor, PerChannel, PerGroup<128>)
//     Observer     how the clipping range is chosen from data (MinMax, MovingAverageMinMax,
//                  Percentile, Histogram, Entropy, MseSearch)
//
// A GridAwareObserver also knows which grid the range is for: histogram and search observers
// pick a different range for 4 bits than for 8.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

#include "pare/core/shape.hpp"
#include "pare/core/tensor.hpp"

namespace pare {

/// Scale and zero point of one quantization unit: real = (code - zero_point) * scale.
struct QuantParams {
  float scale = 1.0f;
  std::int32_t zero_point = 0;
  friend constexpr bool operator==(const QuantParams&, const QuantParams&) = default;
};

/// A clipping range [lo, hi] chosen by an observer. Empty (lo > hi) until something is observed.
struct Range {
  float lo = std::numeric_limits<float>::infinity();
  float hi = -std::numeric_limits<float>::infinity();
  [[nodiscard]] constexpr bool empty() const noexcept { return lo > hi; }
  friend constexpr bool operator==(const Range&, const Range&) = default;
};

/// The integers codes may take, [qmin, qmax].
struct CodeRange {
  int qmin = 0;
  int qmax = 0;
  friend constexpr bool operator==(const CodeRange&, const CodeRange&) = default;
};

/// A code grid: codes are integers in [qmin, qmax], stored in `bits` bits each; `code_type`
/// holds one unpacked code.
template <class F>
concept QuantFormat = requires {
  { F::bits } -> std::convertible_to<int>;
  { F::qmin } -> std::convertible_to<int>;
  { F::qmax } -> std::convertible_to<int>;
  typename F::code_type;
} && (F::qmin < F::qmax) && (F::bits >= 1) && (F::bits <= 8);

/// Turns a clipping range into scale and zero point on a code range, and says which part of the
/// format's code range it uses (a restricted-range scheme gives up the most negative code).
template <class S>
concept QuantScheme = requires(const S& s, Range r, CodeRange codes) {
  { s.params(r, codes) } -> std::same_as<QuantParams>;
  { s.code_range(codes) } -> std::same_as<CodeRange>;
};

/// Splits a weight matrix [rows, cols] into units that share quantization parameters.
/// `unit_values` returns the elements of one unit (copied into `scratch` when they are not
/// contiguous); `unit_of` says which unit an element belongs to.
template <class G>
concept Granularity = requires(const G& g, const Shape<2>& s, TensorView<const float, 2> w,
                               std::size_t i, std::vector<float>& scratch) {
  { g.unit_count(s) } -> std::same_as<std::size_t>;
  { g.unit_of(s, i, i) } -> std::same_as<std::size_t>;
  { g.unit_values(w, i, scratch) } -> std::same_as<std::span<const float>>;
  g.check(
      s);  // throws ArgumentError when the shape does not fit (a group size that doesn't divide)
};

/// Accumulates calibration data and proposes a clipping range. Observers are copied once per
/// quantization unit, so a fresh observer must be cheap to copy.
template <class O>
concept Observer = std::copyable<O> && requires(O& o, const O& co, std::span<const float> x) {
  o.observe(x);
  { co.range() } -> std::same_as<Range>;
};

/// An observer whose best range depends on the grid: `range(scheme, codes)` is the range for
/// the format's code range `codes` (the full one, as QuantScheme::params takes it) quantized with
/// `scheme`. Quantizer::calibrate prefers it to `range()`, which such an observer defines as its
/// range for 8-bit codes ([-128, 127] with a symmetric scheme).
template <class O, class S>
concept GridAwareObserver =
    Observer<O> && QuantScheme<S> && requires(const O& co, const S& s, CodeRange codes) {
      { co.range(s, codes) } -> std::same_as<Range>;
    };

}  // namespace pare
