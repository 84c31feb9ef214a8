// SPDX-License-Identifier: Apache-2.0
// pare — GGUF's two type vocabularies: ggml tensor types (block size, block bytes) and GGUF
// metadata value types.
//
// Every ggml type a GGUF file may name is listed with its block geometry (from ggml.h /
// ggml.c's type_traits), so a file holding a type pare cannot decode still parses, its tensors
// are still sized and bounds-checked, and raw() still hands out their bytes; only dequantize()
// says UnsupportedError. Ids ggml removed (4, 5, 31-33, 36-38) and ids past the last one are
// not types at all: FormatError.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pare::io {

/// A ggml tensor element type as stored in a GGUF tensor info (u32 on disk). Values outside the
/// enumerators can be held (the enum has a fixed underlying type); ggml_type_info() says
/// whether an id is a real type.
enum class GgmlType : std::uint32_t {
  f32 = 0,
  f16 = 1,
  q4_0 = 2,
  q4_1 = 3,
  q5_0 = 6,
  q5_1 = 7,
  q8_0 = 8,
  q8_1 = 9,
  q2_k = 10,
  q3_k = 11,
  q4_k = 12,
  q5_k = 13,
  q6_k = 14,
  q8_k = 15,
  iq2_xxs = 16,
  iq2_xs = 17,
  iq3_xxs = 18,
  iq1_s = 19,
  iq4_nl = 20,
  iq3_s = 21,
  iq2_s = 22,
  iq4_xs = 23,
  i8 = 24,
  i16 = 25,
  i32 = 26,
  i64 = 27,
  f64 = 28,
  iq1_m = 29,
  bf16 = 30,
  tq1_0 = 34,
  tq2_0 = 35,
  mxfp4 = 39,
  nvfp4 = 40,
  q1_0 = 41,
  q2_0 = 42,
};

/// Geometry of one ggml type: `block_size` elements are stored in `type_size` bytes.
struct GgmlTypeInfo {
  std::string_view name;     ///< ggml's name ("q4_K")
  std::uint32_t block_size;  ///< elements per block (1 for plain types)
  std::uint32_t type_size;   ///< bytes per block
  bool dequantizable;        ///< pare can decode it to float
};

namespace detail {

struct GgmlTypeRow {
  std::uint32_t id;
  GgmlTypeInfo info;
};

// Block sizes and byte sizes as ggml_blck_size()/ggml_type_size() report them.
inline constexpr std::array<GgmlTypeRow, 36> ggml_type_table{{
    {0, {"f32", 1, 4, true}},
    {1, {"f16", 1, 2, true}},
    {2, {"q4_0", 32, 18, true}},
    {3, {"q4_1", 32, 20, true}},
    {6, {"q5_0", 32, 22, true}},
    {7, {"q5_1", 32, 24, true}},
    {8, {"q8_0", 32, 34, true}},
    {9, {"q8_1", 32, 36, true}},
    {10, {"q2_K", 256, 84, true}},
    {11, {"q3_K", 256, 110, true}},
    {12, {"q4_K", 256, 144, true}},
    {13, {"q5_K", 256, 176, true}},
    {14, {"q6_K", 256, 210, true}},
    {15, {"q8_K", 256, 292, true}},
    {16, {"iq2_xxs", 256, 66, false}},
    {17, {"iq2_xs", 256, 74, false}},
    {18, {"iq3_xxs", 256, 98, false}},
    {19, {"iq1_s", 256, 50, false}},
    {20, {"iq4_nl", 32, 18, false}},
    {21, {"iq3_s", 256, 110, false}},
    {22, {"iq2_s", 256, 82, false}},
    {23, {"iq4_xs", 256, 136, false}},
    {24, {"i8", 1, 1, true}},
    {25, {"i16", 1, 2, true}},
    {26, {"i32", 1, 4, true}},
    {27, {"i64", 1, 8, true}},
    {28, {"f64", 1, 8, true}},
    {29, {"iq1_m", 256, 56, false}},
    {30, {"bf16", 1, 2, true}},
    {34, {"tq1_0", 256, 54, false}},
    {35, {"tq2_0", 256, 66, false}},
    {39, {"mxfp4", 32, 17, false}},
    {40, {"nvfp4", 64, 36, false}},
    {41, {"q1_0", 128, 18, false}},
    {42, {"q2_0", 64, 18, false}},
    {0xFFFF'FFFFu, {"", 0, 0, false}},  // sentinel, never matched
}};

/// Names of ids ggml once used and then removed from GGUF (so an error can say what they were).
[[nodiscard]] constexpr std::string_view ggml_removed_type_name(std::uint32_t id) noexcept {
  switch (id) {
    case 4:
      return "q4_2";
    case 5:
      return "q4_3";
    case 31:
      return "q4_0_4_4";
    case 32:
      return "q4_0_4_8";
    case 33:
      return "q4_0_8_8";
    case 36:
      return "iq4_nl_4_4";
    case 37:
      return "iq4_nl_4_8";
    case 38:
      return "iq4_nl_8_8";
    default:
      return {};
  }
}

}  // namespace detail

/// Geometry of ggml type id `id`, or nullopt when `id` is not a type a GGUF file may hold.
[[nodiscard]] constexpr std::optional<GgmlTypeInfo> ggml_type_info(std::uint32_t id) noexcept {
  for (const auto& row : detail::ggml_type_table)
    if (row.id == id && row.info.block_size != 0) return row.info;
  return std::nullopt;
}
[[nodiscard]] constexpr std::optional<GgmlTypeInfo> ggml_type_info(GgmlType t) noexcept {
  return ggml_type_info(static_cast<std::uint32_t>(t));
}

/// ggml's name for `t` ("q4_K"), or "ggml type <id>" for an id that is not a type.
[[nodiscard]] std::string name(GgmlType t);

/// The type of a GGUF metadata value (u32 on disk).
enum class GgufValueType : std::uint32_t {
  u8 = 0,
  i8 = 1,
  u16 = 2,
  i16 = 3,
  u32 = 4,
  i32 = 5,
  f32 = 6,
  boolean = 7,
  string = 8,
  array = 9,
  u64 = 10,
  i64 = 11,
  f64 = 12,
};

/// "u32", "string", "array", ...; "value type <id>" for an unknown id.
[[nodiscard]] std::string name(GgufValueType t);

namespace detail {

/// Bytes of one value of a fixed-size GGUF type; 0 for string and array (variable size).
[[nodiscard]] constexpr std::uint64_t gguf_fixed_size(GgufValueType t) noexcept {
  switch (t) {
    case GgufValueType::u8:
    case GgufValueType::i8:
    case GgufValueType::boolean:
      return 1;
    case GgufValueType::u16:
    case GgufValueType::i16:
      return 2;
    case GgufValueType::u32:
    case GgufValueType::i32:
    case GgufValueType::f32:
      return 4;
    case GgufValueType::u64:
    case GgufValueType::i64:
    case GgufValueType::f64:
      return 8;
    case GgufValueType::string:
    case GgufValueType::array:
      return 0;
  }
  return 0;
}

/// Fewest bytes one value of type `t` can occupy on disk (a string is at least its u64 length,
/// an array at least its element type and count); used to bound counts before allocating.
[[nodiscard]] constexpr std::uint64_t gguf_min_size(GgufValueType t) noexcept {
  if (t == GgufValueType::string) return 8;
  if (t == GgufValueType::array) return 12;
  return gguf_fixed_size(t);
}

[[nodiscard]] constexpr bool gguf_valid_value_type(std::uint32_t id) noexcept { return id <= 12; }

}  // namespace detail
}  // namespace pare::io

#ifndef PARE_COMPILED_LIB
#include "pare/io/detail/gguf_types-inl.hpp"
#endif
