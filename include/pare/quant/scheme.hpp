// SPDX-License-Identifier: Apache-2.0
// pare — quantization schemes: how a clipping range becomes scale and zero point.
//
// When to use which:
//   Symmetric  zero point fixed at the grid's middle (0 for signed codes): cheapest kernels,
//              the default for weights. `restricted_range` drops the most negative code so that
//              x and -x quantize to opposite codes (needed by some int8 GEMM backends).
//   Affine     a zero point shifts the grid to cover [lo, hi] exactly: better for one-sided
//              data (post-ReLU activations) and for low-bit weights with a skewed range.
// Both follow PyTorch's observers (torch.ao.quantization, `_calculate_qparams`): the range is
// widened to include 0, the scale is at least float32 epsilon, and the zero point is rounded
// half to even, so scales and zero points match PyTorch's bit for bit.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include "pare/quant/concepts.hpp"

namespace pare {

namespace detail {
inline constexpr float scale_floor = std::numeric_limits<float>::epsilon();

/// The smallest power of two >= s (s > 0).
[[nodiscard]] inline float round_up_to_power_of_two(float s) noexcept {
  int e = 0;
  const float m = std::frexp(s, &e);  // s = m * 2^e, m in [0.5, 1)
  return m == 0.5f ? s : std::ldexp(1.0f, e);
}
}  // namespace detail

/// Zero point in the middle of the code range; scale covers max(|lo|, |hi|).
struct Symmetric {
  /// Zero points are implied (the grid's middle) and cost no storage.
  static constexpr bool is_symmetric = true;
  /// Use [-qmax, qmax] instead of [qmin, qmax] for signed codes (one fewer code, exact negation).
  bool restricted_range = false;
  /// Round the scale up to a power of two (shift-only requantization on fixed-point hardware).
  bool power_of_two = false;

  [[nodiscard]] constexpr CodeRange code_range(CodeRange c) const noexcept {
    if (!restricted_range) return c;
    return c.qmin < 0 ? CodeRange{-c.qmax, c.qmax} : CodeRange{c.qmin + 1, c.qmax};
  }

  [[nodiscard]] QuantParams params(Range r, CodeRange full) const noexcept {
    const CodeRange c = code_range(full);
    const float amax = std::max(-std::min(r.lo, 0.0f), std::max(r.hi, 0.0f));
    float scale = amax / (static_cast<float>(c.qmax - c.qmin) / 2.0f);
    scale = std::max(scale, detail::scale_floor);
    if (power_of_two) scale = detail::round_up_to_power_of_two(scale);
    // Unsigned codes put zero at the middle, rounded up: 128 for uint8 (as PyTorch's quint8),
    // 8 for uint4, so that the codes relative to zero are those of the signed format.
    const std::int32_t zp = c.qmin < 0 ? 0 : (c.qmin + c.qmax + 1) / 2;
    return {scale, zp};
  }
};

/// Scale and zero point that map [min(lo, 0), max(hi, 0)] onto the whole code range.
struct Affine {
  static constexpr bool is_symmetric = false;
  /// Round the scale up to a power of two.
  bool power_of_two = false;

  [[nodiscard]] constexpr CodeRange code_range(CodeRange c) const noexcept { return c; }

  [[nodiscard]] QuantParams params(Range r, CodeRange c) const noexcept {
    const float lo = std::min(r.lo, 0.0f);
    const float hi = std::max(r.hi, 0.0f);
    float scale = (hi - lo) / static_cast<float>(c.qmax - c.qmin);
    scale = std::max(scale, detail::scale_floor);
    if (power_of_two) scale = detail::round_up_to_power_of_two(scale);
    // nearbyint rounds half to even under the default rounding mode, as torch.round does.
    const auto zp =
        static_cast<std::int64_t>(c.qmin) - static_cast<std::int64_t>(std::nearbyint(lo / scale));
    return {scale, static_cast<std::int32_t>(std::clamp<std::int64_t>(zp, c.qmin, c.qmax))};
  }
};

static_assert(QuantScheme<Symmetric> && QuantScheme<Affine>);

/// Whether a scheme's zero points are implied; a user scheme says so with
/// `static constexpr bool is_symmetric = true;`, and is taken as affine otherwise.
template <QuantScheme S>
inline constexpr bool scheme_is_symmetric = [] {
  if constexpr (requires { S::is_symmetric; }) {
    return static_cast<bool>(S::is_symmetric);
  } else {
    return false;
  }
}();

/// The code of x: clamp(nearbyint(x / scale) + zero_point, qmin, qmax). Multiplies by the
/// reciprocal of the scale, as PyTorch's kernels do, so that codes match theirs exactly.
[[nodiscard]] inline std::int32_t quantize_value(float x, float inv_scale, std::int32_t zero_point,
                                                 CodeRange c) noexcept {
  const float q = std::nearbyint(x * inv_scale) + static_cast<float>(zero_point);
  // Clamp in float first: a NaN or huge x must not reach an out-of-range float->int cast.
  const float clamped = std::clamp(q, static_cast<float>(c.qmin), static_cast<float>(c.qmax));
  return std::isnan(clamped) ? zero_point : static_cast<std::int32_t>(clamped);
}

/// The real value of a code.
[[nodiscard]] constexpr float dequantize_value(std::int32_t code, QuantParams p) noexcept {
  return static_cast<float>(code - p.zero_point) * p.scale;
}

}  // namespace pare
