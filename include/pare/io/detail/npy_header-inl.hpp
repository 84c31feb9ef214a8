// SPDX-License-Identifier: Apache-2.0
// pare — definitions for io/detail/npy_header.hpp: compiled once into pare::compiled, or included
// by the header (core/config.hpp explains the two modes).
#pragma once

#include <limits>

#include "pare/core/config.hpp"
#include "pare/core/error.hpp"
#include "pare/io/detail/npy_header.hpp"

namespace pare::io::detail {

PARE_INLINE std::string npy_shape_text(const std::vector<std::size_t>& shape) {
  std::string s = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + (shape.size() == 1 ? ",)" : ")");
}

PARE_INLINE NpyHeader NpyHeaderParser::parse() {
  NpyHeader h;
  bool have_descr = false;
  bool have_fortran = false;
  bool have_shape = false;
  skip_ws();
  expect('{', "header", "the header must be a dict starting with '{'");
  for (;;) {
    skip_ws();
    if (peek() == '}') break;
    const std::size_t key_at = i_;
    const std::string key = parse_string("header key");
    skip_ws();
    expect(':', key, "expected ':' after the key");
    skip_ws();
    if (key == "descr") {
      if (have_descr) fail(key_at, key, "duplicate key");
      have_descr = true;
      if (peek() == '[')
        throw UnsupportedError(file_ + ": structured dtypes (a list as 'descr') are not supported");
      const std::size_t at = i_;
      h.descr = parse_string(key);
      parse_descr(h, at);
    } else if (key == "fortran_order") {
      if (have_fortran) fail(key_at, key, "duplicate key");
      have_fortran = true;
      h.fortran_order = parse_bool(key);
    } else if (key == "shape") {
      if (have_shape) fail(key_at, key, "duplicate key");
      have_shape = true;
      h.shape = parse_shape();
    } else {
      fail(key_at, key,
           "unknown key (a .npy header has exactly 'descr', 'fortran_order', 'shape')");
    }
    skip_ws();
    if (peek() == ',') {
      ++i_;
      continue;
    }
    if (peek() != '}') fail(i_, "header", "expected ',' or '}' after a value");
  }
  ++i_;  // '}'
  skip_ws();
  if (i_ != s_.size()) fail(i_, "header", "unexpected text after the closing '}'");
  if (!have_descr) fail(0, "descr", "missing key 'descr'");
  if (!have_fortran) fail(0, "fortran_order", "missing key 'fortran_order'");
  if (!have_shape) fail(0, "shape", "missing key 'shape'");
  return h;
}

PARE_INLINE void NpyHeaderParser::fail(std::size_t at, std::string_view field,
                                       const std::string& what) const {
  throw FormatError(file_, std::string(field), base_ + at, what);
}

PARE_INLINE void NpyHeaderParser::skip_ws() noexcept {
  while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r'))
    ++i_;
}

PARE_INLINE void NpyHeaderParser::expect(char c, std::string_view field, const char* what) {
  if (peek() != c || i_ >= s_.size()) fail(i_, field, what);
  ++i_;
}

PARE_INLINE std::string NpyHeaderParser::parse_string(std::string_view field) {
  const char q = peek();
  if (q != '\'' && q != '"') fail(i_, field, "expected a quoted string");
  const std::size_t start = ++i_;
  while (i_ < s_.size() && s_[i_] != q) {
    const auto c = static_cast<unsigned char>(s_[i_]);
    if (c < 0x20 || c > 0x7E || c == '\\') fail(i_, field, "unexpected character in a string");
    ++i_;
  }
  if (i_ >= s_.size()) fail(start - 1, field, "unterminated string");
  return std::string(s_.substr(start, i_++ - start));
}

PARE_INLINE bool NpyHeaderParser::parse_bool(std::string_view field) {
  if (s_.substr(i_, 4) == "True") {
    i_ += 4;
    return true;
  }
  if (s_.substr(i_, 5) == "False") {
    i_ += 5;
    return false;
  }
  fail(i_, field, "expected True or False");
}

PARE_INLINE std::size_t NpyHeaderParser::parse_int(std::string_view field) {
  const std::size_t start = i_;
  if (!(peek() >= '0' && peek() <= '9')) fail(i_, field, "expected a non-negative integer");
  if (peek() == '0' && i_ + 1 < s_.size() && s_[i_ + 1] >= '0' && s_[i_ + 1] <= '9')
    fail(i_, field, "integer with a leading zero");
  std::uint64_t v = 0;
  while (peek() >= '0' && peek() <= '9') {
    const auto d = static_cast<std::uint64_t>(peek() - '0');
    if (v > (std::numeric_limits<std::uint64_t>::max() - d) / 10)
      fail(start, field, "integer overflows 64 bits");
    v = v * 10 + d;
    ++i_;
  }
  if (peek() == 'L') ++i_;  // Python 2 long, written by old numpy
  if (v > std::numeric_limits<std::size_t>::max())
    fail(start, field, "integer does not fit in size_t");
  return static_cast<std::size_t>(v);
}

PARE_INLINE std::vector<std::size_t> NpyHeaderParser::parse_shape() {
  static constexpr std::size_t max_rank = 64;  // numpy allows 32 (64 since numpy 2)
  std::vector<std::size_t> shape;
  const std::size_t open = i_;
  expect('(', "shape", "expected a tuple");
  skip_ws();
  bool trailing_comma = false;
  while (peek() != ')') {
    if (shape.size() == max_rank) fail(open, "shape", "more than 64 dimensions");
    shape.push_back(parse_int("shape"));
    skip_ws();
    trailing_comma = false;
    if (peek() == ',') {
      ++i_;
      trailing_comma = true;
      skip_ws();
    } else if (peek() != ')') {
      fail(i_, "shape", "expected ',' or ')' in the shape tuple");
    }
  }
  if (shape.size() == 1 && !trailing_comma)
    fail(open, "shape", "'(n)' is an integer in Python, not a tuple; numpy writes '(n,)'");
  ++i_;  // ')'
  return shape;
}

PARE_INLINE void NpyHeaderParser::parse_descr(NpyHeader& h, std::size_t at) const {
  const std::string& d = h.descr;
  if (d.size() < 3) fail(at, "descr", "unknown dtype '" + d + "'");
  const char order = d[0];
  const char kind = d[1];
  const std::string_view digits = std::string_view(d).substr(2);
  for (char c : digits)
    if (c < '0' || c > '9') fail(at, "descr", "unknown dtype '" + d + "'");
  if (order != '<' && order != '>' && order != '|')
    fail(at, "descr", "unknown byte order in dtype '" + d + "' (expected '<', '>' or '|')");
  std::optional<DType> t;
  if (kind == 'f') {
    if (digits == "2") t = DType::f16;
    if (digits == "4") t = DType::f32;
    if (digits == "8") t = DType::f64;
  } else if (kind == 'i') {
    if (digits == "1") t = DType::i8;
    if (digits == "2") t = DType::i16;
    if (digits == "4") t = DType::i32;
    if (digits == "8") t = DType::i64;
  } else if (kind == 'u') {
    if (digits == "1") t = DType::u8;
    if (digits == "2") t = DType::u16;
    if (digits == "4") t = DType::u32;
    if (digits == "8") t = DType::u64;
  } else if (kind == 'b') {
    if (digits == "1") t = DType::boolean;
  } else if (std::string_view("cmMOSUVa").find(kind) != std::string_view::npos) {
    throw UnsupportedError(file_ + ": numpy dtype '" + d +
                           "' (complex, datetime, object, string or void) is not supported");
  } else {
    fail(at, "descr", "unknown dtype '" + d + "'");
  }
  if (!t)
    throw UnsupportedError(file_ + ": numpy dtype '" + d +
                           "' is not supported (no matching pare::DType)");
  const std::size_t size = npy_itemsize(*t);
  if (order == '|' && size != 1)
    fail(at, "descr", "dtype '" + d + "' has no byte order but is wider than one byte");
  h.dtype = *t;
  h.big_endian = order == '>' && size > 1;
}

PARE_INLINE std::string npy_header_bytes(std::string_view descr,
                                         const std::vector<std::size_t>& shape, bool fortran_order,
                                         int major) {
  std::string dict = "{'descr': '";
  dict += descr;
  dict += "', 'fortran_order': ";
  dict += fortran_order ? "True" : "False";
  dict += ", 'shape': (";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) dict += ", ";
    dict += std::to_string(shape[i]);
  }
  if (shape.size() == 1) dict += ',';
  dict += "), }";
  if (!shape.empty()) {
    const std::size_t digits = std::to_string(shape[fortran_order ? shape.size() - 1 : 0]).size();
    dict.append(21 - digits, ' ');
  }
  auto wrap = [&](int v) -> std::optional<std::string> {
    const std::size_t len_size = v == 1 ? 2 : 4;
    const std::size_t hlen = dict.size() + 1;
    const std::size_t pad = 64 - ((6 + 2 + len_size + hlen) % 64);
    const std::size_t total = hlen + pad;
    if (v == 1 && total > 0xFFFF) return std::nullopt;
    std::string out = "\x93NUMPY";
    out += static_cast<char>(v);
    out += '\0';
    for (std::size_t i = 0; i < len_size; ++i) out += static_cast<char>((total >> (8 * i)) & 0xFF);
    out += dict;
    out.append(pad, ' ');
    out += '\n';
    return out;
  };
  if (major == 0) {
    if (auto h = wrap(1)) return *h;
    return *wrap(2);
  }
  PARE_CHECK(major >= 1 && major <= 3, ArgumentError, ".npy version ", major,
             ".0 does not exist (1, 2 or 3)");
  auto h = wrap(major);
  PARE_CHECK(h.has_value(), ArgumentError,
             "a .npy 1.0 header is limited to 65535 bytes; use version 2");
  return *h;
}

}  // namespace pare::io::detail
