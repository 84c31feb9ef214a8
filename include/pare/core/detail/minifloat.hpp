// SPDX-License-Identifier: Apache-2.0
// pare — bit-level encode/decode shared by every binary floating-point format narrower than float.
#pragma once

#include <bit>
#include <cstdint>
#include <limits>

namespace pare::detail {

/// How a format uses its all-ones exponent field.
enum class NonFinite {
  ieee,      ///< IEEE 754: all-ones exponent is infinity (mantissa 0) or NaN (f16, fp8_e5m2)
  nan_only,  ///< OCP E4M3 ("fn"): no infinities; only S.1111.111 is NaN, the rest are normal
};

/// A sign / `E` exponent bits / `M` mantissa bits format with bias 2^(E-1)-1 and subnormals.
/// Every such format with E <= 8 and M <= 22 is exactly representable in float, which is what
/// makes `decode` exact and lets `encode` round once, straight from the float's bits.
template <int E, int M, NonFinite NF>
struct MiniFloat {
  static_assert(E >= 2 && E <= 5 && M >= 1 && M <= 10,
                "MiniFloat handles formats from fp8 up to binary16; bfloat16 has its own path");
  static constexpr int exp_bits = E;
  static constexpr int man_bits = M;
  static constexpr int bias = (1 << (E - 1)) - 1;
  static constexpr bool has_inf = NF == NonFinite::ieee;
  static constexpr std::uint32_t sign_bit = 1u << (E + M);
  static constexpr std::uint32_t man_mask = (1u << M) - 1;
  static constexpr std::uint32_t exp_all_ones = ((1u << E) - 1) << M;
  /// Largest finite magnitude: the pattern just below infinity, or just below the lone NaN.
  static constexpr std::uint32_t max_bits = has_inf ? exp_all_ones - 1 : sign_bit - 2;
  /// The quiet NaN this library produces (sign added separately).
  static constexpr std::uint32_t nan_bits = has_inf ? exp_all_ones | (1u << (M - 1)) : sign_bit - 1;
};

/// Exact float value of the format's bit pattern `b` (sign bit included, higher bits ignored).
template <class F>
[[nodiscard]] constexpr float minifloat_decode(std::uint32_t b) noexcept {
  const std::uint32_t sign = (b & F::sign_bit) != 0 ? 0x8000'0000u : 0u;
  const std::uint32_t mag = b & (F::sign_bit - 1);
  const std::uint32_t e = mag >> F::man_bits;
  const std::uint32_t m = mag & F::man_mask;
  if constexpr (F::has_inf) {
    if ((mag & F::exp_all_ones) == F::exp_all_ones)  // inf or NaN: keep the payload's top bits
      return std::bit_cast<float>(sign | 0x7F80'0000u | (m << (23 - F::man_bits)));
  } else {
    if (mag == F::nan_bits) return std::bit_cast<float>(sign | 0x7FC0'0000u);
  }
  if (e == 0) {
    // Subnormal: m * 2^(1 - bias - M); the product is exact because m has at most M bits.
    constexpr float unit =
        std::bit_cast<float>(std::uint32_t(127 + 1 - F::bias - F::man_bits) << 23);
    const float v = static_cast<float>(m) * unit;
    return sign != 0 ? -v : v;
  }
  return std::bit_cast<float>(sign | ((e + 127 - F::bias) << 23) | (m << (23 - F::man_bits)));
}

/// Bits of `f` rounded to nearest, ties to even. Out-of-range finite values and infinities become
/// ±max when `Saturate`, else ±inf (IEEE formats) or NaN (E4M3). NaN stays NaN (quiet; for IEEE
/// formats the top payload bits are kept, as x86 VCVTPS2PH does).
///
/// Branch-free on purpose: both the normal and the subnormal result are computed and one is
/// selected, so a loop over this vectorizes (variable shifts, compares and blends only).
template <class F, bool Saturate>
[[nodiscard]] constexpr std::uint32_t minifloat_encode(float f) noexcept {
  constexpr int drop = 23 - F::man_bits;  // float mantissa bits rounded away in the normal range
  constexpr std::uint32_t min_normal = std::uint32_t(127 + 1 - F::bias) << 23;
  constexpr std::uint32_t overflow =
      Saturate ? F::max_bits : (F::has_inf ? F::exp_all_ones : F::nan_bits);
  const std::uint32_t x = std::bit_cast<std::uint32_t>(f);
  const std::uint32_t sign = (x >> 31) << (F::exp_bits + F::man_bits);
  const std::uint32_t ax = x & 0x7FFF'FFFFu;

  // Normal range: rebias the exponent in place and round the mantissa with one add of
  // (half - 1 + lowest kept bit); its carry ripples into the exponent for the next binade, and
  // past max_bits on overflow.
  const std::uint32_t r = ax - (std::uint32_t(127 - F::bias) << 23);
  const std::uint32_t normal = (r + ((1u << (drop - 1)) - 1) + ((r >> drop) & 1u)) >> drop;

  // Subnormal range: value = m * 2^(e - 150) (e = 1, no implicit bit, for float subnormals); in
  // units of the smallest subnormal 2^(1 - bias - M) that is m / 2^sh, sh = 151 - bias - M - e.
  // sh is clamped to [1, 31]: from 25 on everything rounds to 0 anyway (m < 2^24 <= half).
  const std::uint32_t e = ax >> 23;
  const std::uint32_t m = (ax & 0x7F'FFFFu) | (e != 0 ? 0x80'0000u : 0u);
  const std::uint32_t sh_raw = std::uint32_t(151 - F::bias - F::man_bits) - (e != 0 ? e : 1u);
  const std::uint32_t sh = sh_raw - 1 < 30u ? sh_raw : 31u;
  // Same round-half-even add as above (m + half < 2^31: no wrap). Written as one add and shift
  // rather than compares on the remainder because GCC 12 vectorizes this form and not that one.
  const std::uint32_t sub = (m + ((1u << (sh - 1)) - 1) + ((m >> sh) & 1u)) >> sh;

  std::uint32_t q = ax >= min_normal ? normal : sub;
  q = q > F::max_bits ? overflow : q;
  if constexpr (F::has_inf)
    q = ax > 0x7F80'0000u ? (F::nan_bits | ((ax >> drop) & F::man_mask)) : q;
  else
    q = ax > 0x7F80'0000u ? F::nan_bits : q;
  return sign | q;
}

/// numeric_limits members shared by every pare floating-point element type; `L` supplies the
/// format-specific constants and bit patterns.
template <class T, class L>
struct FloatLimits {
  static constexpr bool is_specialized = true;
  static constexpr bool is_signed = true;
  static constexpr bool is_integer = false;
  static constexpr bool is_exact = false;
  static constexpr bool has_infinity = L::has_infinity;
  static constexpr bool has_quiet_NaN = true;
  static constexpr bool has_signaling_NaN = L::has_signaling_NaN;
  static constexpr std::float_denorm_style has_denorm = std::denorm_present;
  static constexpr bool has_denorm_loss = false;
  static constexpr std::float_round_style round_style = std::round_to_nearest;
  static constexpr bool is_iec559 = L::is_iec559;
  static constexpr bool is_bounded = true;
  static constexpr bool is_modulo = false;
  static constexpr int digits = L::digits;
  static constexpr int digits10 = L::digits10;
  static constexpr int max_digits10 = L::max_digits10;
  static constexpr int radix = 2;
  static constexpr int min_exponent = L::min_exponent;
  static constexpr int min_exponent10 = L::min_exponent10;
  static constexpr int max_exponent = L::max_exponent;
  static constexpr int max_exponent10 = L::max_exponent10;
  static constexpr bool traps = false;
  static constexpr bool tinyness_before = false;

  static constexpr T min() noexcept { return T::from_bits(L::min); }
  static constexpr T lowest() noexcept { return T::from_bits(L::lowest); }
  static constexpr T max() noexcept { return T::from_bits(L::max); }
  static constexpr T epsilon() noexcept { return T::from_bits(L::epsilon); }
  static constexpr T round_error() noexcept { return T::from_bits(L::round_error); }
  /// Zero when the format has no infinity (as for integers).
  static constexpr T infinity() noexcept { return T::from_bits(L::infinity); }
  static constexpr T quiet_NaN() noexcept { return T::from_bits(L::quiet_NaN); }
  /// Zero when the format has no signaling NaN.
  static constexpr T signaling_NaN() noexcept { return T::from_bits(L::signaling_NaN); }
  static constexpr T denorm_min() noexcept { return T::from_bits(L::denorm_min); }
};

using Binary16Format = MiniFloat<5, 10, NonFinite::ieee>;
using E4M3Format = MiniFloat<4, 3, NonFinite::nan_only>;
using E5M2Format = MiniFloat<5, 2, NonFinite::ieee>;

}  // namespace pare::detail
