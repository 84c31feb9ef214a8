// SPDX-License-Identifier: Apache-2.0
// pare — 16-bit floating-point element types: f16 (IEEE binary16) and bf16 (bfloat16).
//
// Both are storage types: decode to float is exact, encode from float rounds to nearest, ties to
// even, and overflows to infinity (as IEEE 754 and every ML framework do for 16-bit types).
// Arithmetic happens in float; comparisons compare the float values (so NaN != NaN and
// +0 == -0); compare `bits()` for identity.
#pragma once

#include <bit>
#include <compare>
#include <cstdint>
#include <limits>

#include "pare/core/detail/minifloat.hpp"

namespace pare {

/// IEEE 754 binary16: 1 sign, 5 exponent (bias 15), 10 mantissa bits; max 65504.
///
///     pare::f16 h(0.1f);                       // rounds to nearest even: 0x2E66
///     float back = static_cast<float>(h);      // 0.0999755859375, exact
///     auto one = pare::f16::from_bits(0x3C00); // 1.0
struct f16 {
  constexpr f16() noexcept = default;
  /// Rounds to nearest, ties to even; |f| >= 65520 gives ±inf; NaN stays NaN.
  constexpr explicit f16(float f) noexcept
      : bits_(static_cast<std::uint16_t>(
            detail::minifloat_encode<detail::Binary16Format, false>(f))) {}
  /// Exact.
  constexpr explicit operator float() const noexcept {
    return detail::minifloat_decode<detail::Binary16Format>(bits_);
  }
  [[nodiscard]] static constexpr f16 from_bits(std::uint16_t b) noexcept {
    f16 h;
    h.bits_ = b;
    return h;
  }
  [[nodiscard]] constexpr std::uint16_t bits() const noexcept { return bits_; }
  [[nodiscard]] constexpr bool is_nan() const noexcept { return (bits_ & 0x7FFFu) > 0x7C00u; }
  [[nodiscard]] constexpr bool is_inf() const noexcept { return (bits_ & 0x7FFFu) == 0x7C00u; }

  friend constexpr bool operator==(f16 a, f16 b) noexcept { return float(a) == float(b); }
  friend constexpr std::partial_ordering operator<=>(f16 a, f16 b) noexcept {
    return float(a) <=> float(b);
  }

 private:
  std::uint16_t bits_ = 0;
};

namespace detail {

/// float -> bfloat16 bits, round to nearest even (the bias trick: adding 0x7FFF plus the lowest
/// kept bit carries exactly when the dropped half is above, or at and odd). Overflow carries into
/// the exponent and lands on infinity. NaN keeps its top payload bits and is made quiet.
[[nodiscard]] constexpr std::uint16_t bf16_encode(float f) noexcept {
  const std::uint32_t x = std::bit_cast<std::uint32_t>(f);
  if ((x & 0x7FFF'FFFFu) > 0x7F80'0000u) return static_cast<std::uint16_t>((x >> 16) | 0x0040u);
  return static_cast<std::uint16_t>((x + 0x7FFFu + ((x >> 16) & 1u)) >> 16);
}

}  // namespace detail

/// bfloat16: the top half of a float (1 sign, 8 exponent, 7 mantissa bits); float's range, 3
/// significant decimal digits.
///
///     pare::bf16 b(3.14159f);                  // 0x4049 == 3.140625
struct bf16 {
  constexpr bf16() noexcept = default;
  /// Rounds to nearest, ties to even; values above the largest bf16 by half an ulp or more give
  /// ±inf; NaN stays NaN.
  constexpr explicit bf16(float f) noexcept : bits_(detail::bf16_encode(f)) {}
  /// Exact: the bits become the top half of a float.
  constexpr explicit operator float() const noexcept {
    return std::bit_cast<float>(static_cast<std::uint32_t>(bits_) << 16);
  }
  [[nodiscard]] static constexpr bf16 from_bits(std::uint16_t b) noexcept {
    bf16 h;
    h.bits_ = b;
    return h;
  }
  [[nodiscard]] constexpr std::uint16_t bits() const noexcept { return bits_; }
  [[nodiscard]] constexpr bool is_nan() const noexcept { return (bits_ & 0x7FFFu) > 0x7F80u; }
  [[nodiscard]] constexpr bool is_inf() const noexcept { return (bits_ & 0x7FFFu) == 0x7F80u; }

  friend constexpr bool operator==(bf16 a, bf16 b) noexcept { return float(a) == float(b); }
  friend constexpr std::partial_ordering operator<=>(bf16 a, bf16 b) noexcept {
    return float(a) <=> float(b);
  }

 private:
  std::uint16_t bits_ = 0;
};

static_assert(sizeof(f16) == 2 && sizeof(bf16) == 2);

namespace detail {

struct F16LimitBits {
  static constexpr bool has_infinity = true, has_signaling_NaN = true, is_iec559 = true;
  static constexpr int digits = 11, digits10 = 3, max_digits10 = 5;
  static constexpr int min_exponent = -13, min_exponent10 = -4, max_exponent = 16,
                       max_exponent10 = 4;
  static constexpr std::uint16_t min = 0x0400, lowest = 0xFBFF, max = 0x7BFF, epsilon = 0x1400,
                                 round_error = 0x3800, infinity = 0x7C00, quiet_NaN = 0x7E00,
                                 signaling_NaN = 0x7D00, denorm_min = 0x0001;
};

struct BF16LimitBits {
  static constexpr bool has_infinity = true, has_signaling_NaN = true, is_iec559 = false;
  static constexpr int digits = 8, digits10 = 2, max_digits10 = 4;
  static constexpr int min_exponent = -125, min_exponent10 = -37, max_exponent = 128,
                       max_exponent10 = 38;
  static constexpr std::uint16_t min = 0x0080, lowest = 0xFF7F, max = 0x7F7F, epsilon = 0x3C00,
                                 round_error = 0x3F00, infinity = 0x7F80, quiet_NaN = 0x7FC0,
                                 signaling_NaN = 0x7FA0, denorm_min = 0x0001;
};

}  // namespace detail
}  // namespace pare

template <>
struct std::numeric_limits<pare::f16>
    : pare::detail::FloatLimits<pare::f16, pare::detail::F16LimitBits> {};
template <>
struct std::numeric_limits<pare::bf16>
    : pare::detail::FloatLimits<pare::bf16, pare::detail::BF16LimitBits> {};
