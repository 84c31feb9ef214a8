// SPDX-License-Identifier: Apache-2.0
// pare — element types: the umbrella for the family, compile-time traits, the runtime DType tag,
// and bulk conversion between float and the narrow floating-point types.
//
// The types themselves live one family per header:
// - core/float16.hpp  f16 (IEEE binary16), bf16 (bfloat16)
// - core/float8.hpp   fp8_e4m3, fp8_e5m2 (OCP OFP8; saturation rules documented there)
// - core/packed.hpp   int4x2, uint4x2, int2x4 and pack_*/unpack_*
//
// Every float type decodes exactly to float and encodes from float by round-to-nearest-even.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <type_traits>

#include "pare/core/error.hpp"
#include "pare/core/float16.hpp"
#include "pare/core/float8.hpp"
#include "pare/core/packed.hpp"

namespace pare {

/// Runtime tag of an element type, for code that learns the type from data (a file header, a CLI
/// flag) and turns it into a static type once, at the edge.
enum class DType : std::uint8_t {
  f32,
  f64,
  f16,
  bf16,
  f8_e4m3,
  f8_e5m2,
  i8,
  u8,
  i16,
  i32,
  i64,
  u16,
  u32,
  u64,
  boolean,  ///< one byte per value, 0 or 1 (named "bool")
  i4,
  u4,
  i2,
};

/// Every DType, in declaration order (for loops and tests).
inline constexpr DType all_dtypes[] = {
    DType::f32, DType::f64, DType::f16,     DType::bf16, DType::f8_e4m3, DType::f8_e5m2,
    DType::i8,  DType::u8,  DType::i16,     DType::i32,  DType::i64,     DType::u16,
    DType::u32, DType::u64, DType::boolean, DType::i4,   DType::u4,      DType::i2};

/// Bits per element (4 for i4: two share a byte).
[[nodiscard]] constexpr std::size_t size_bits(DType t) noexcept {
  switch (t) {
    case DType::f64:
    case DType::i64:
    case DType::u64:
      return 64;
    case DType::f32:
    case DType::i32:
    case DType::u32:
      return 32;
    case DType::f16:
    case DType::bf16:
    case DType::i16:
    case DType::u16:
      return 16;
    case DType::f8_e4m3:
    case DType::f8_e5m2:
    case DType::i8:
    case DType::u8:
    case DType::boolean:
      return 8;
    case DType::i4:
    case DType::u4:
      return 4;
    case DType::i2:
      return 2;
  }
  return 0;
}

/// Short lower-case name: "f32", "bf16", "f8_e4m3", "i4", "bool", ...
[[nodiscard]] constexpr std::string_view name(DType t) noexcept {
  switch (t) {
    case DType::f32:
      return "f32";
    case DType::f64:
      return "f64";
    case DType::f16:
      return "f16";
    case DType::bf16:
      return "bf16";
    case DType::f8_e4m3:
      return "f8_e4m3";
    case DType::f8_e5m2:
      return "f8_e5m2";
    case DType::i8:
      return "i8";
    case DType::u8:
      return "u8";
    case DType::i16:
      return "i16";
    case DType::i32:
      return "i32";
    case DType::i64:
      return "i64";
    case DType::u16:
      return "u16";
    case DType::u32:
      return "u32";
    case DType::u64:
      return "u64";
    case DType::boolean:
      return "bool";
    case DType::i4:
      return "i4";
    case DType::u4:
      return "u4";
    case DType::i2:
      return "i2";
  }
  return "?";
}

/// The DType named `s` (exactly as `name` spells it), or nullopt.
[[nodiscard]] constexpr std::optional<DType> dtype_from_name(std::string_view s) noexcept {
  for (DType t : all_dtypes)
    if (name(t) == s) return t;
  return std::nullopt;
}

/// Compile-time facts about an element type: `name`, `bits` per element (of the logical element,
/// so 4 for int4x2), `lanes` (elements per stored object) and the runtime `dtype`.
/// Specialized for every built-in element type; primary template left undefined.
template <class T>
struct dtype_traits;

namespace detail {
template <DType D, std::size_t Lanes = 1>
struct DTypeTraitsBase {
  static constexpr DType dtype = D;
  static constexpr std::string_view name = pare::name(D);
  static constexpr std::size_t bits = size_bits(D);
  static constexpr std::size_t lanes = Lanes;
};
}  // namespace detail

template <>
struct dtype_traits<float> : detail::DTypeTraitsBase<DType::f32> {};
template <>
struct dtype_traits<double> : detail::DTypeTraitsBase<DType::f64> {};
template <>
struct dtype_traits<f16> : detail::DTypeTraitsBase<DType::f16> {};
template <>
struct dtype_traits<bf16> : detail::DTypeTraitsBase<DType::bf16> {};
template <>
struct dtype_traits<fp8_e4m3> : detail::DTypeTraitsBase<DType::f8_e4m3> {};
template <>
struct dtype_traits<fp8_e5m2> : detail::DTypeTraitsBase<DType::f8_e5m2> {};
template <>
struct dtype_traits<std::int8_t> : detail::DTypeTraitsBase<DType::i8> {};
template <>
struct dtype_traits<std::uint8_t> : detail::DTypeTraitsBase<DType::u8> {};
template <>
struct dtype_traits<std::int16_t> : detail::DTypeTraitsBase<DType::i16> {};
template <>
struct dtype_traits<std::int32_t> : detail::DTypeTraitsBase<DType::i32> {};
template <>
struct dtype_traits<std::int64_t> : detail::DTypeTraitsBase<DType::i64> {};
template <>
struct dtype_traits<std::uint16_t> : detail::DTypeTraitsBase<DType::u16> {};
template <>
struct dtype_traits<std::uint32_t> : detail::DTypeTraitsBase<DType::u32> {};
template <>
struct dtype_traits<std::uint64_t> : detail::DTypeTraitsBase<DType::u64> {};
template <>
struct dtype_traits<bool> : detail::DTypeTraitsBase<DType::boolean> {};
/// Packed types: traits describe one logical element; `lanes` of them share the byte.
template <>
struct dtype_traits<int4x2> : detail::DTypeTraitsBase<DType::i4, 2> {
  static constexpr std::string_view storage_name = "i4x2";
};
template <>
struct dtype_traits<uint4x2> : detail::DTypeTraitsBase<DType::u4, 2> {
  static constexpr std::string_view storage_name = "u4x2";
};
template <>
struct dtype_traits<int2x4> : detail::DTypeTraitsBase<DType::i2, 4> {
  static constexpr std::string_view storage_name = "i2x4";
};

/// A type with dtype_traits.
template <class T>
concept ElementType = requires {
  { dtype_traits<T>::dtype } -> std::convertible_to<DType>;
  { dtype_traits<T>::name } -> std::convertible_to<std::string_view>;
};

/// A narrow floating-point storage type: exact decode to float, rounding encode from float, and
/// access to the raw bits.
template <class T>
concept NarrowFloat = ElementType<T> && std::is_trivially_copyable_v<T> && requires(T v, float f) {
  T(f);
  { static_cast<float>(v) } -> std::same_as<float>;
  { v.bits() } -> std::unsigned_integral;
  { T::from_bits(v.bits()) } -> std::same_as<T>;
  { v.is_nan() } -> std::same_as<bool>;
};

static_assert(NarrowFloat<f16> && NarrowFloat<bf16> && NarrowFloat<fp8_e4m3> &&
              NarrowFloat<fp8_e5m2>);

namespace detail {

// f16 goes through F16C (8 per instruction) when the target has it.
void convert_f32_to(const float* in, f16* out, std::size_t n) noexcept;
void convert_to_f32(const f16* in, float* out, std::size_t n) noexcept;

template <class T>
void convert_f32_to(const float* in, T* out, std::size_t n) noexcept {
  for (std::size_t i = 0; i < n; ++i) out[i] = T(in[i]);
}

template <class T>
void convert_to_f32(const T* in, float* out, std::size_t n) noexcept {
  if constexpr (sizeof(T) == 1) {
    const auto& table = fp8_decode_table<T>;
    for (std::size_t i = 0; i < n; ++i) out[i] = table[in[i].bits()];
  } else {
    for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<float>(in[i]);
  }
}

}  // namespace detail

/// Converts floats to a narrow float type element by element, exactly as `T(float)` does
/// (round to nearest even; fp8 saturates). Throws ShapeError unless the sizes match.
///
///     std::vector<float> w = ...;
///     std::vector<pare::f16> h(w.size());
///     pare::convert(std::span<const float>(w), std::span<pare::f16>(h));
template <NarrowFloat T>
void convert(std::span<const float> in, std::span<T> out) {
  PARE_CHECK(in.size() == out.size(), ShapeError, "convert: ", in.size(), " floats into ",
             out.size(), " ", dtype_traits<T>::name, " elements");
  detail::convert_f32_to(in.data(), out.data(), in.size());
}

/// Decodes a narrow float type to float, exactly. Throws ShapeError unless the sizes match.
template <NarrowFloat T>
void convert(std::span<const T> in, std::span<float> out) {
  PARE_CHECK(in.size() == out.size(), ShapeError, "convert: ", in.size(), " ",
             dtype_traits<T>::name, " elements into ", out.size(), " floats");
  detail::convert_to_f32(in.data(), out.data(), in.size());
}

}  // namespace pare

#ifndef PARE_COMPILED_LIB
#include "pare/core/dtype-inl.hpp"
#endif
