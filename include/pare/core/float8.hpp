// SPDX-License-Identifier: Apache-2.0
// pare — 8-bit floating-point element types per the OCP 8-bit Floating Point Specification
// (OFP8, rev. 1.0, 2023): fp8_e4m3 ("E4M3", called float8_e4m3fn in PyTorch/ONNX) and fp8_e5m2.
//
// When to use which:
// - fp8_e4m3: weights and activations. One more mantissa bit; range ±448; no infinities, and
//   only S.1111.111 is NaN (the other all-ones-exponent patterns are normal numbers).
// - fp8_e5m2: gradients and wide-range data. IEEE-like: ±inf, NaNs, range ±57344.
//
// Conversion from float rounds to nearest, ties to even, in one step from the float's bits (no
// double rounding through f16). Overflow has two modes, both from OFP8 §"conversion":
// - saturating (the constructor, and `pare::convert`): finite values beyond ±max *and* ±inf
//   become ±max. This is what ML frameworks use to cast weights (NVIDIA __NV_SATFINITE, ONNX Cast
//   saturate=1, Transformer Engine), because a single outlier must not become NaN/inf.
// - non-saturating (`from_float_nonsat`): values that round beyond ±max, and ±inf, become NaN
//   (E4M3, which has no inf) or ±inf (E5M2) -- IEEE overflow semantics.
// Either way NaN converts to NaN. "Beyond max" is decided after rounding: for E4M3, 464 (the
// midpoint between 448 and the would-be 480) ties to even 448, anything above overflows; for E5M2
// the first overflowing value is 61440 (ties to the even, would-be 65536).
#pragma once

#include <array>
#include <bit>
#include <compare>
#include <cstdint>
#include <limits>

#include "pare/core/detail/minifloat.hpp"

namespace pare {

/// OFP8 E4M3: 1 sign, 4 exponent (bias 7), 3 mantissa bits; max 448; min normal 2^-6; min
/// subnormal 2^-9; no infinities; NaN is S.1111.111 (0x7F / 0xFF).
///
///     pare::fp8_e4m3 w(1000.f);                          // saturates: 448
///     auto n = pare::fp8_e4m3::from_float_nonsat(1000.f); // NaN
struct fp8_e4m3 {
  using format = detail::E4M3Format;
  constexpr fp8_e4m3() noexcept = default;
  /// Round to nearest even, saturating: |f| beyond 448 (after rounding) and ±inf give ±448.
  constexpr explicit fp8_e4m3(float f) noexcept
      : bits_(static_cast<std::uint8_t>(detail::minifloat_encode<format, true>(f))) {}
  /// Round to nearest even, non-saturating: |f| > 464 and ±inf give NaN (with f's sign).
  [[nodiscard]] static constexpr fp8_e4m3 from_float_nonsat(float f) noexcept {
    return from_bits(static_cast<std::uint8_t>(detail::minifloat_encode<format, false>(f)));
  }
  /// Exact.
  constexpr explicit operator float() const noexcept {
    return detail::minifloat_decode<format>(bits_);
  }
  [[nodiscard]] static constexpr fp8_e4m3 from_bits(std::uint8_t b) noexcept {
    fp8_e4m3 v;
    v.bits_ = b;
    return v;
  }
  [[nodiscard]] constexpr std::uint8_t bits() const noexcept { return bits_; }
  [[nodiscard]] constexpr bool is_nan() const noexcept { return (bits_ & 0x7Fu) == 0x7Fu; }
  [[nodiscard]] constexpr bool is_inf() const noexcept { return false; }

  friend constexpr bool operator==(fp8_e4m3 a, fp8_e4m3 b) noexcept { return float(a) == float(b); }
  friend constexpr std::partial_ordering operator<=>(fp8_e4m3 a, fp8_e4m3 b) noexcept {
    return float(a) <=> float(b);
  }

 private:
  std::uint8_t bits_ = 0;
};

/// OFP8 E5M2: 1 sign, 5 exponent (bias 15), 2 mantissa bits; max 57344; min normal 2^-14; min
/// subnormal 2^-16; ±inf = S.11111.00, NaN = S.11111.{01,10,11}. It is the top byte of an f16.
struct fp8_e5m2 {
  using format = detail::E5M2Format;
  constexpr fp8_e5m2() noexcept = default;
  /// Round to nearest even, saturating: |f| beyond 57344 (after rounding) and ±inf give ±57344.
  constexpr explicit fp8_e5m2(float f) noexcept
      : bits_(static_cast<std::uint8_t>(detail::minifloat_encode<format, true>(f))) {}
  /// Round to nearest even, non-saturating: |f| >= 61440 and ±inf give ±inf.
  [[nodiscard]] static constexpr fp8_e5m2 from_float_nonsat(float f) noexcept {
    return from_bits(static_cast<std::uint8_t>(detail::minifloat_encode<format, false>(f)));
  }
  /// Exact.
  constexpr explicit operator float() const noexcept {
    return detail::minifloat_decode<format>(bits_);
  }
  [[nodiscard]] static constexpr fp8_e5m2 from_bits(std::uint8_t b) noexcept {
    fp8_e5m2 v;
    v.bits_ = b;
    return v;
  }
  [[nodiscard]] constexpr std::uint8_t bits() const noexcept { return bits_; }
  [[nodiscard]] constexpr bool is_nan() const noexcept { return (bits_ & 0x7Fu) > 0x7Cu; }
  [[nodiscard]] constexpr bool is_inf() const noexcept { return (bits_ & 0x7Fu) == 0x7Cu; }

  friend constexpr bool operator==(fp8_e5m2 a, fp8_e5m2 b) noexcept { return float(a) == float(b); }
  friend constexpr std::partial_ordering operator<=>(fp8_e5m2 a, fp8_e5m2 b) noexcept {
    return float(a) <=> float(b);
  }

 private:
  std::uint8_t bits_ = 0;
};

static_assert(sizeof(fp8_e4m3) == 1 && sizeof(fp8_e5m2) == 1);

namespace detail {

/// All 256 decoded values, built at compile time: bulk decode is one load per element.
template <class T>
inline constexpr std::array<float, 256> fp8_decode_table = [] {
  std::array<float, 256> t{};
  for (unsigned b = 0; b < 256; ++b)
    t[b] = static_cast<float>(T::from_bits(static_cast<std::uint8_t>(b)));
  return t;
}();

struct E4M3LimitBits {
  static constexpr bool has_infinity = false, has_signaling_NaN = false, is_iec559 = false;
  static constexpr int digits = 4, digits10 = 0, max_digits10 = 3;
  static constexpr int min_exponent = -5, min_exponent10 = -1, max_exponent = 9, max_exponent10 = 2;
  static constexpr std::uint8_t min = 0x08, lowest = 0xFE, max = 0x7E, epsilon = 0x20,
                                round_error = 0x30, infinity = 0x00, quiet_NaN = 0x7F,
                                signaling_NaN = 0x00, denorm_min = 0x01;
};

struct E5M2LimitBits {
  static constexpr bool has_infinity = true, has_signaling_NaN = true, is_iec559 = false;
  static constexpr int digits = 3, digits10 = 0, max_digits10 = 2;
  static constexpr int min_exponent = -13, min_exponent10 = -4, max_exponent = 16,
                       max_exponent10 = 4;
  static constexpr std::uint8_t min = 0x04, lowest = 0xFB, max = 0x7B, epsilon = 0x34,
                                round_error = 0x38, infinity = 0x7C, quiet_NaN = 0x7E,
                                signaling_NaN = 0x7D, denorm_min = 0x01;
};

}  // namespace detail
}  // namespace pare

template <>
struct std::numeric_limits<pare::fp8_e4m3>
    : pare::detail::FloatLimits<pare::fp8_e4m3, pare::detail::E4M3LimitBits> {};
template <>
struct std::numeric_limits<pare::fp8_e5m2>
    : pare::detail::FloatLimits<pare::fp8_e5m2, pare::detail::E5M2LimitBits> {};
