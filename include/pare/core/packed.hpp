// SPDX-License-Identifier: Apache-2.0
// pare — packed sub-byte integers: int4x2, uint4x2 (two 4-bit values a byte) and int2x4 (four
// 2-bit values a byte).
//
// Layout is little-endian within the byte, as GGUF, AWQ/GPTQ checkpoints and most kernels use:
// element 0 sits in the lowest bits. A tensor of n sub-byte values takes ceil(n / per_byte) bytes;
// the unused high lanes of the last byte are zero, so packed buffers compare and hash reproducibly.
//
//     std::array<std::int8_t, 3> w{-8, 7, 3};
//     std::array<pare::int4x2, 2> p;
//     pare::pack_int4(w, p);        // p[0].bits() == 0x78, p[1].bits() == 0x03
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>

#include "pare/core/error.hpp"

namespace pare {

namespace detail {

/// Common shape of every packed type: `Lanes` values of `Width` bits in one byte, values in
/// [lo, hi]; `Signed` selects two's complement.
template <class Derived, int Width, bool Signed>
struct PackedByte {
  static constexpr std::size_t lanes = 8 / Width;
  static constexpr int width = Width;
  static constexpr int lo = Signed ? -(1 << (Width - 1)) : 0;
  static constexpr int hi = Signed ? (1 << (Width - 1)) - 1 : (1 << Width) - 1;
  static constexpr unsigned lane_mask = (1u << Width) - 1;
  using value_type = std::conditional_t<Signed, std::int8_t, std::uint8_t>;

  [[nodiscard]] static constexpr Derived from_bits(std::uint8_t b) noexcept {
    Derived d;
    static_cast<PackedByte&>(d).bits_ = b;
    return d;
  }
  [[nodiscard]] constexpr std::uint8_t bits() const noexcept { return bits_; }

  /// Element `i` (0 = lowest bits), sign-extended for signed types.
  /// @pre i < lanes
  [[nodiscard]] constexpr value_type get(std::size_t i) const noexcept {
    PARE_ASSERT(i < lanes);
    const unsigned u = (static_cast<unsigned>(bits_) >> (Width * i)) & lane_mask;
    if constexpr (Signed) {
      constexpr int sign = 1 << (Width - 1);
      return static_cast<value_type>((static_cast<int>(u) ^ sign) - sign);
    } else {
      return static_cast<value_type>(u);
    }
  }
  /// Sets element `i` to `v`, leaving the other lanes untouched.
  /// @pre i < lanes and lo <= v <= hi (checked in debug builds only; the bulk pack_* functions
  /// check always)
  constexpr void set(std::size_t i, value_type v) noexcept {
    PARE_ASSERT(i < lanes && v >= lo && v <= hi);
    const unsigned shift = static_cast<unsigned>(Width * i);
    const unsigned cleared = static_cast<unsigned>(bits_) & ~(lane_mask << shift);
    bits_ = static_cast<std::uint8_t>(cleared | ((static_cast<unsigned>(v) & lane_mask) << shift));
  }

  /// Byte equality: two packed bytes are equal when all their lanes are.
  friend constexpr bool operator==(Derived a, Derived b) noexcept { return a.bits() == b.bits(); }

 private:
  std::uint8_t bits_ = 0;
};

}  // namespace detail

/// Two signed 4-bit integers in [-8, 7]; element 0 in the low nibble.
struct int4x2 : detail::PackedByte<int4x2, 4, true> {
  constexpr int4x2() noexcept = default;
  /// @pre -8 <= e0, e1 <= 7
  constexpr int4x2(std::int8_t e0, std::int8_t e1) noexcept {
    set(0, e0);
    set(1, e1);
  }
};

/// Two unsigned 4-bit integers in [0, 15]; element 0 in the low nibble.
struct uint4x2 : detail::PackedByte<uint4x2, 4, false> {
  constexpr uint4x2() noexcept = default;
  /// @pre e0, e1 <= 15
  constexpr uint4x2(std::uint8_t e0, std::uint8_t e1) noexcept {
    set(0, e0);
    set(1, e1);
  }
};

/// Four signed 2-bit integers in [-2, 1]; element 0 in the lowest two bits.
struct int2x4 : detail::PackedByte<int2x4, 2, true> {
  constexpr int2x4() noexcept = default;
  /// @pre -2 <= e_i <= 1
  constexpr int2x4(std::int8_t e0, std::int8_t e1, std::int8_t e2, std::int8_t e3) noexcept {
    set(0, e0);
    set(1, e1);
    set(2, e2);
    set(3, e3);
  }
};

static_assert(sizeof(int4x2) == 1 && sizeof(uint4x2) == 1 && sizeof(int2x4) == 1);

/// Number of packed bytes that hold `n` values of type P.
template <class P>
[[nodiscard]] constexpr std::size_t packed_size(std::size_t n) noexcept {
  return (n + P::lanes - 1) / P::lanes;
}

namespace detail {

template <class P>
void pack(std::span<const typename P::value_type> in, std::span<P> out, const char* fn) {
  PARE_CHECK(out.size() == packed_size<P>(in.size()), ShapeError, fn, ": ", in.size(),
             " values need ", packed_size<P>(in.size()), " packed bytes, the output has ",
             out.size());
  for (std::size_t i = 0; i < in.size(); ++i)
    PARE_CHECK(in[i] >= P::lo && in[i] <= P::hi, ArgumentError, fn, ": value ",
               static_cast<int>(in[i]), " at index ", i, " is outside [", P::lo, ", ", P::hi, "]");
  const std::size_t full = in.size() / P::lanes;
  for (std::size_t j = 0; j < full; ++j) {
    unsigned b = 0;
    for (std::size_t l = 0; l < P::lanes; ++l)
      b |= (static_cast<unsigned>(in[j * P::lanes + l]) & P::lane_mask) << (P::width * l);
    out[j] = P::from_bits(static_cast<std::uint8_t>(b));
  }
  if (full < out.size()) {  // the tail: missing lanes stay zero
    unsigned b = 0;
    for (std::size_t l = 0; full * P::lanes + l < in.size(); ++l)
      b |= (static_cast<unsigned>(in[full * P::lanes + l]) & P::lane_mask) << (P::width * l);
    out[full] = P::from_bits(static_cast<std::uint8_t>(b));
  }
}

template <class P>
void unpack(std::span<const P> in, std::span<typename P::value_type> out, const char* fn) {
  PARE_CHECK(in.size() == packed_size<P>(out.size()), ShapeError, fn, ": ", out.size(),
             " values come from ", packed_size<P>(out.size()), " packed bytes, the input has ",
             in.size());
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = in[i / P::lanes].get(i % P::lanes);
}

}  // namespace detail

/// Packs int8 values in [-8, 7] two to a byte. Throws ShapeError unless
/// out.size() == ceil(in.size() / 2), ArgumentError (naming the index) for a value out of range;
/// on a throw `out` is untouched. An odd count leaves the last high nibble zero.
void pack_int4(std::span<const std::int8_t> in, std::span<int4x2> out);
/// Inverse of pack_int4; out.size() is the element count (ceil(out.size() / 2) == in.size()).
void unpack_int4(std::span<const int4x2> in, std::span<std::int8_t> out);
/// Packs uint8 values in [0, 15] two to a byte; see pack_int4.
void pack_uint4(std::span<const std::uint8_t> in, std::span<uint4x2> out);
void unpack_uint4(std::span<const uint4x2> in, std::span<std::uint8_t> out);
/// Packs int8 values in [-2, 1] four to a byte; unused lanes of the last byte are zero.
void pack_int2(std::span<const std::int8_t> in, std::span<int2x4> out);
void unpack_int2(std::span<const int2x4> in, std::span<std::int8_t> out);

}  // namespace pare

#ifndef PARE_COMPILED_LIB
#include "pare/core/packed-inl.hpp"
#endif
