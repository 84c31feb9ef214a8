// SPDX-License-Identifier: Apache-2.0
// pare — the safetensors JSON header, read token by token (pare::JsonReader) against exactly the
// schema `{"name": {"dtype": str, "shape": [uint...], "data_offsets": [uint, uint]},
// "__metadata__": {str: str}}`, stopping at the first deviation. Building no DOM keeps memory
// proportional to what the header describes (no node per JSON token; a hostile `[[[[...` fails
// at its first bracket), and the reader sees duplicate names and keys as they come.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pare/core/dtype.hpp"

namespace pare::io::detail {

/// The safetensors spelling of a DType ("F32", "BF16", "F8_E4M3", "BOOL", ...), or nullopt.
[[nodiscard]] constexpr std::optional<std::string_view> safetensors_dtype_name(DType t) noexcept {
  switch (t) {
    case DType::f64:
      return "F64";
    case DType::f32:
      return "F32";
    case DType::f16:
      return "F16";
    case DType::bf16:
      return "BF16";
    case DType::f8_e4m3:
      return "F8_E4M3";
    case DType::f8_e5m2:
      return "F8_E5M2";
    case DType::i64:
      return "I64";
    case DType::i32:
      return "I32";
    case DType::i16:
      return "I16";
    case DType::i8:
      return "I8";
    case DType::u64:
      return "U64";
    case DType::u32:
      return "U32";
    case DType::u16:
      return "U16";
    case DType::u8:
      return "U8";
    case DType::boolean:
      return "BOOL";
    default:
      return std::nullopt;
  }
}

[[nodiscard]] constexpr std::optional<DType> safetensors_dtype(std::string_view s) noexcept {
  for (DType t : all_dtypes)
    if (auto n = safetensors_dtype_name(t); n && *n == s) return t;
  return std::nullopt;
}

/// Position of a dtype in the reference implementation's Dtype enum; its writer orders tensors
/// by this rank (descending), then by name, which puts wider types first and so keeps every
/// tensor aligned to its element size.
[[nodiscard]] constexpr int safetensors_dtype_rank(DType t) noexcept {
  switch (t) {
    case DType::boolean:
      return 0;
    case DType::u8:
      return 1;
    case DType::i8:
      return 2;
    case DType::f8_e5m2:
      return 3;
    case DType::f8_e4m3:
      return 4;
    case DType::i16:
      return 5;
    case DType::u16:
      return 6;
    case DType::f16:
      return 7;
    case DType::bf16:
      return 8;
    case DType::i32:
      return 9;
    case DType::u32:
      return 10;
    case DType::f32:
      return 11;
    case DType::f64:
      return 12;
    case DType::i64:
      return 13;
    case DType::u64:
      return 14;
    default:
      return -1;
  }
}

/// One tensor entry as the header declares it (unvalidated against the data).
struct RawTensorInfo {
  std::string name;
  std::string dtype;
  std::vector<std::uint64_t> shape;
  std::vector<std::uint64_t> offsets;
  bool has_dtype = false;
  bool has_shape = false;
  bool has_offsets = false;
};

/// The header's tensors (in header order) and its "__metadata__".
struct SafetensorsHeader {
  std::vector<RawTensorInfo> tensors;
  std::map<std::string, std::string> metadata;
};

inline constexpr std::size_t safetensors_max_rank = 64;

/// Reads the header JSON token by token against the schema, stopping at the first deviation:
/// JsonParseError (offset within `text`) for bad JSON and for anything the schema does not
/// allow. `file` names the file in messages.
[[nodiscard]] SafetensorsHeader parse_safetensors_header(std::string_view text,
                                                         std::string_view file);

}  // namespace pare::io::detail

#ifndef PARE_COMPILED_LIB
#include "pare/io/detail/safetensors_header-inl.hpp"
#endif
