// SPDX-License-Identifier: Apache-2.0
// pare — definitions for io/detail/gguf_types.hpp: compiled once into pare::compiled, or included
// by the header (core/config.hpp explains the two modes).
#pragma once

#include <string>

#include "pare/core/config.hpp"
#include "pare/io/detail/gguf_types.hpp"

namespace pare::io {

PARE_INLINE std::string name(GgmlType t) {
  if (auto i = ggml_type_info(t)) return std::string(i->name);
  return "ggml type " + std::to_string(static_cast<std::uint32_t>(t));
}

PARE_INLINE std::string name(GgufValueType t) {
  constexpr std::string_view names[] = {"u8",   "i8",     "u16",   "i16", "u32", "i32", "f32",
                                        "bool", "string", "array", "u64", "i64", "f64"};
  const auto id = static_cast<std::uint32_t>(t);
  if (id < std::size(names)) return std::string(names[id]);
  return "value type " + std::to_string(id);
}

}  // namespace pare::io
