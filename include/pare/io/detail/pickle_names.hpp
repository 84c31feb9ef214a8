// SPDX-License-Identifier: Apache-2.0
// pare — names and text for the restricted pickle machine: every pickle opcode's name (so a
// rejected one is named in the error), the torch storage classes and their DTypes, and quoting
// and UTF-8 checks for strings taken from untrusted pickles.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "pare/core/dtype.hpp"

namespace pare::io::detail {
/// `s` quoted for an error message: at most 64 bytes, non-printable bytes as \xNN.
[[nodiscard]] std::string printable(std::string_view s);

/// True when `s` is well-formed UTF-8 (no overlong forms, nothing above U+10FFFF). Surrogate
/// code points are accepted, as pickle's 'surrogatepass' decoding does.
[[nodiscard]] bool is_utf8(std::string_view s) noexcept;

/// The name of pickle opcode `op` (every protocol, so rejected ones are named too), or "".
[[nodiscard]] constexpr std::string_view pickle_opcode_name(std::uint8_t op) noexcept {
  switch (op) {
    case '(':
      return "MARK";
    case '.':
      return "STOP";
    case '0':
      return "POP";
    case '1':
      return "POP_MARK";
    case '2':
      return "DUP";
    case 'F':
      return "FLOAT";
    case 'I':
      return "INT";
    case 'J':
      return "BININT";
    case 'K':
      return "BININT1";
    case 'L':
      return "LONG";
    case 'M':
      return "BININT2";
    case 'N':
      return "NONE";
    case 'P':
      return "PERSID";
    case 'Q':
      return "BINPERSID";
    case 'R':
      return "REDUCE";
    case 'S':
      return "STRING";
    case 'T':
      return "BINSTRING";
    case 'U':
      return "SHORT_BINSTRING";
    case 'V':
      return "UNICODE";
    case 'X':
      return "BINUNICODE";
    case 'a':
      return "APPEND";
    case 'b':
      return "BUILD";
    case 'c':
      return "GLOBAL";
    case 'd':
      return "DICT";
    case '}':
      return "EMPTY_DICT";
    case 'e':
      return "APPENDS";
    case 'g':
      return "GET";
    case 'h':
      return "BINGET";
    case 'i':
      return "INST";
    case 'j':
      return "LONG_BINGET";
    case 'l':
      return "LIST";
    case ']':
      return "EMPTY_LIST";
    case 'o':
      return "OBJ";
    case 'p':
      return "PUT";
    case 'q':
      return "BINPUT";
    case 'r':
      return "LONG_BINPUT";
    case 's':
      return "SETITEM";
    case 't':
      return "TUPLE";
    case ')':
      return "EMPTY_TUPLE";
    case 'u':
      return "SETITEMS";
    case 'G':
      return "BINFLOAT";
    case 0x80:
      return "PROTO";
    case 0x81:
      return "NEWOBJ";
    case 0x82:
      return "EXT1";
    case 0x83:
      return "EXT2";
    case 0x84:
      return "EXT4";
    case 0x85:
      return "TUPLE1";
    case 0x86:
      return "TUPLE2";
    case 0x87:
      return "TUPLE3";
    case 0x88:
      return "NEWTRUE";
    case 0x89:
      return "NEWFALSE";
    case 0x8a:
      return "LONG1";
    case 0x8b:
      return "LONG4";
    case 'B':
      return "BINBYTES";
    case 'C':
      return "SHORT_BINBYTES";
    case 0x8c:
      return "SHORT_BINUNICODE";
    case 0x8d:
      return "BINUNICODE8";
    case 0x8e:
      return "BINBYTES8";
    case 0x8f:
      return "EMPTY_SET";
    case 0x90:
      return "ADDITEMS";
    case 0x91:
      return "FROZENSET";
    case 0x92:
      return "NEWOBJ_EX";
    case 0x93:
      return "STACK_GLOBAL";
    case 0x94:
      return "MEMOIZE";
    case 0x95:
      return "FRAME";
    case 0x96:
      return "BYTEARRAY8";
    case 0x97:
      return "NEXT_BUFFER";
    case 0x98:
      return "READONLY_BUFFER";
    default:
      return "";
  }
}

/// The DType of torch.<name> when it is a storage class pare reads; nullopt otherwise.
[[nodiscard]] constexpr std::optional<DType> torch_storage_dtype(std::string_view name) noexcept {
  struct Row {
    std::string_view name;
    DType dtype;
  };
  constexpr Row rows[] = {{"FloatStorage", DType::f32}, {"DoubleStorage", DType::f64},
                          {"HalfStorage", DType::f16},  {"BFloat16Storage", DType::bf16},
                          {"LongStorage", DType::i64},  {"IntStorage", DType::i32},
                          {"ShortStorage", DType::i16}, {"CharStorage", DType::i8},
                          {"ByteStorage", DType::u8},   {"BoolStorage", DType::boolean}};
  for (const auto& r : rows)
    if (r.name == name) return r.dtype;
  return std::nullopt;
}

/// The name torch gives the storage class of `t` ("FloatStorage"), for messages and writers.
[[nodiscard]] constexpr std::string_view torch_storage_name(DType t) noexcept {
  switch (t) {
    case DType::f32:
      return "FloatStorage";
    case DType::f64:
      return "DoubleStorage";
    case DType::f16:
      return "HalfStorage";
    case DType::bf16:
      return "BFloat16Storage";
    case DType::i64:
      return "LongStorage";
    case DType::i32:
      return "IntStorage";
    case DType::i16:
      return "ShortStorage";
    case DType::i8:
      return "CharStorage";
    case DType::u8:
      return "ByteStorage";
    case DType::boolean:
      return "BoolStorage";
    default:
      return "";
  }
}

}  // namespace pare::io::detail

#ifndef PARE_COMPILED_LIB
#include "pare/io/detail/pickle_names-inl.hpp"
#endif
