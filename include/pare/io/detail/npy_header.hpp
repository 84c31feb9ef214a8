// SPDX-License-Identifier: Apache-2.0
// pare — the .npy header: a strict parser for the one Python dict literal numpy writes, and the
// writer that reproduces numpy's bytes exactly.
//
// numpy's reader evaluates the header with `ast.literal_eval`; ours accepts the subset numpy
// writes: `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }` with any whitespace
// between tokens, single or double quotes, an optional trailing comma, Python 2 `3L` integers,
// and trailing whitespace after the closing brace. Anything else is a FormatError pointing at
// the byte; structured dtypes (a list as 'descr') are an UnsupportedError.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pare/core/dtype.hpp"
#include "pare/core/error.hpp"

namespace pare::io::detail {

/// What a .npy header declares.
struct NpyHeader {
  DType dtype = DType::f32;
  bool big_endian = false;
  bool fortran_order = false;
  std::vector<std::size_t> shape;
  std::string descr;
};

/// numpy's type string for a DType ('<f4', '|u1', ...), or nullopt when numpy has no such type.
[[nodiscard]] constexpr std::optional<std::string_view> npy_descr(DType t) noexcept {
  switch (t) {
    case DType::f32:
      return "<f4";
    case DType::f64:
      return "<f8";
    case DType::f16:
      return "<f2";
    case DType::i8:
      return "|i1";
    case DType::i16:
      return "<i2";
    case DType::i32:
      return "<i4";
    case DType::i64:
      return "<i8";
    case DType::u8:
      return "|u1";
    case DType::u16:
      return "<u2";
    case DType::u32:
      return "<u4";
    case DType::u64:
      return "<u8";
    case DType::boolean:
      return "|b1";
    default:
      return std::nullopt;
  }
}

/// A shape as numpy prints it: "(2, 3)", "(5,)", "()".
[[nodiscard]] std::string npy_shape_text(const std::vector<std::size_t>& shape);

/// Bytes per element of a DType that numpy can hold (all are whole bytes).
[[nodiscard]] constexpr std::size_t npy_itemsize(DType t) noexcept { return size_bits(t) / 8; }

class NpyHeaderParser {
 public:
  /// `text` is the header; `file` and `base` (its offset in the file) locate errors.
  NpyHeaderParser(std::string_view text, std::string file, std::uint64_t base)
      : s_(text), file_(std::move(file)), base_(base) {}

  [[nodiscard]] NpyHeader parse();

 private:
  [[noreturn]] void fail(std::size_t at, std::string_view field, const std::string& what) const;
  [[nodiscard]] char peek() const noexcept { return i_ < s_.size() ? s_[i_] : '\0'; }
  void skip_ws() noexcept;
  void expect(char c, std::string_view field, const char* what);

  std::string parse_string(std::string_view field);

  bool parse_bool(std::string_view field);

  std::size_t parse_int(std::string_view field);

  std::vector<std::size_t> parse_shape();

  void parse_descr(NpyHeader& h, std::size_t at) const;

  std::string_view s_;
  std::string file_;
  std::uint64_t base_;
  std::size_t i_ = 0;
};

/// The header numpy's `write_array` writes for an array, byte for byte: magic, version, length,
/// the dict (keys sorted, trailing ", "), 21 - digits(shape[0]) spare spaces so the array can
/// grow in place, space padding to a multiple of 64 bytes, and '\n'. `major` is 1, 2 or 3
/// (0 picks 1 unless the header needs 2, as numpy does).
[[nodiscard]] std::string npy_header_bytes(std::string_view descr,
                                           const std::vector<std::size_t>& shape,
                                           bool fortran_order, int major = 0);

}  // namespace pare::io::detail

#ifndef PARE_COMPILED_LIB
#include "pare/io/detail/npy_header-inl.hpp"
#endif
