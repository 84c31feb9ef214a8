// SPDX-License-Identifier: Apache-2.0
// pare — integer code formats.
//
// When to use which:
//   Int<8>   weights and activations for the int8 kernels (s8 weights, VNNI).
//   UInt<8>  activations with an affine zero point (u8 x s8 -> s32, the VNNI instruction's shape).
//   Int<4>   weight-only LLM compression; with PerGroup<32..128> this is the Q4 family.
//   UInt<4>  4-bit with a zero point (AWQ/GPTQ checkpoints store uint4 + zeros).
//   Int<2>   extreme compression; expect accuracy loss without GPTQ-style error correction.
#pragma once

#include <cstdint>
#include <type_traits>

#include "pare/core/packed.hpp"
#include "pare/quant/concepts.hpp"

namespace pare {

/// A grid of 2^Bits integer codes, two's complement when Signed.
template <int Bits, bool Signed>
struct IntegerFormat {
  static_assert(Bits >= 2 && Bits <= 8,
                "IntegerFormat<Bits> supports 2 to 8 bits; wider codes are not quantization");
  static constexpr int bits = Bits;
  static constexpr bool is_signed = Signed;
  static constexpr int qmin = Signed ? -(1 << (Bits - 1)) : 0;
  static constexpr int qmax = Signed ? (1 << (Bits - 1)) - 1 : (1 << Bits) - 1;
  using code_type = std::conditional_t<Signed, std::int8_t, std::uint8_t>;
};

template <int Bits>
using Int = IntegerFormat<Bits, true>;
template <int Bits>
using UInt = IntegerFormat<Bits, false>;

static_assert(QuantFormat<Int<8>> && QuantFormat<UInt<8>> && QuantFormat<Int<4>> &&
              QuantFormat<UInt<4>> && QuantFormat<Int<2>>);

/// The code range of a format.
template <QuantFormat F>
inline constexpr CodeRange code_range_of{F::qmin, F::qmax};

namespace detail {
template <class F>
struct packed_storage {
  using type = typename F::code_type;  // one code a byte
};
template <>
struct packed_storage<Int<4>> {
  using type = int4x2;
};
template <>
struct packed_storage<UInt<4>> {
  using type = uint4x2;
};
template <>
struct packed_storage<Int<2>> {
  using type = int2x4;
};
}  // namespace detail

/// How codes of format F are stored: the packed byte type for 4- and 2-bit formats, else one
/// code a byte.
template <QuantFormat F>
using packed_storage_t = typename detail::packed_storage<F>::type;

/// Codes of format F per storage byte (2 for int4x2, 4 for int2x4, 1 otherwise).
template <QuantFormat F>
inline constexpr std::size_t codes_per_byte = [] {
  if constexpr (requires { packed_storage_t<F>::lanes; }) {
    return packed_storage_t<F>::lanes;
  } else {
    return std::size_t{1};
  }
}();

}  // namespace pare
