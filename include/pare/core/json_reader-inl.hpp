// SPDX-License-Identifier: Apache-2.0
// pare — definitions for core/json_reader.hpp: compiled once into pare::compiled, or included by
// the header (core/config.hpp explains the two modes).
#pragma once

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "pare/core/json_reader.hpp"

namespace pare {

namespace detail {

PARE_INLINE std::size_t utf8_sequence_length(std::string_view s, std::size_t i) noexcept {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = byte(i);
  if (c < 0x80) return 1;
  // RFC 3629's table: the second byte's range rules out overlong forms (E0, F0), surrogates
  // (ED) and code points above U+10FFFF (F4).
  std::size_t n = 0;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (s.size() - i < n || byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < n; ++k)
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
  return n;
}

/// "'x'" for a printable character, "byte 0xNN" otherwise (error messages).
[[nodiscard]] inline std::string json_describe_byte(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u > 0x20 && u < 0x7F) return std::string("'") + c + "'";
  constexpr char hex[] = "0123456789abcdef";
  return std::string("byte 0x") + hex[u >> 4] + hex[u & 15];
}

[[nodiscard]] constexpr bool json_digit(char c) noexcept { return c >= '0' && c <= '9'; }

}  // namespace detail

PARE_INLINE void JsonReader::fail_at(std::size_t offset, std::string what) const {
  throw JsonParseError(options_.source, offset, std::move(what));
}

PARE_INLINE void JsonReader::skip_space() noexcept {
  while (pos_ < text_.size()) {
    const char c = text_[pos_];
    if (c != ' ' && c != '\n' && c != '\r' && c != '\t') break;
    ++pos_;
  }
}

PARE_INLINE char JsonReader::peek() const {
  if (pos_ >= text_.size()) fail_at(pos_, "unexpected end of the text");
  return text_[pos_];
}

PARE_INLINE JsonReader::Token JsonReader::next() {
  switch (state_) {
    case State::value:
      skip_space();
      return read_value();
    case State::first_element:
      skip_space();
      if (peek() == ']') return close();
      return read_value();
    case State::first_member:
      skip_space();
      if (peek() == '}') return close();
      return read_key();
    case State::after: {
      skip_space();
      if (stack_.empty()) {
        if (pos_ != text_.size())
          fail_at(pos_, "unexpected " + detail::json_describe_byte(text_[pos_]) +
                            " after the end of the JSON value");
        at_ = end_ = pos_;
        state_ = State::done;
        return Token::end;
      }
      const bool object = stack_.back() == '{';
      const char c = peek();
      if (c == ',') {
        ++pos_;
        skip_space();
        return object ? read_key() : read_value();
      }
      if (c == (object ? '}' : ']')) return close();
      fail_at(pos_, std::string(object ? "expected ',' or '}'" : "expected ',' or ']'") +
                        ", found " + detail::json_describe_byte(c));
    }
    case State::done:
      break;
  }
  at_ = end_ = pos_;
  return Token::end;
}

PARE_INLINE JsonReader::Token JsonReader::read_value() {
  at_ = pos_;
  const char c = peek();
  Token t = Token::null;
  switch (c) {
    case '{':
      return open('{', State::first_member);
    case '[':
      return open('[', State::first_element);
    case '"':
      read_string();
      t = Token::string;
      break;
    case 't':
      expect_word("true");
      bool_ = true;
      t = Token::boolean;
      break;
    case 'f':
      expect_word("false");
      bool_ = false;
      t = Token::boolean;
      break;
    case 'n':
      expect_word("null");
      t = Token::null;
      break;
    default:
      if (c != '-' && !detail::json_digit(c))
        fail_at(pos_, "expected a value, found " + detail::json_describe_byte(c));
      t = read_number();
      break;
  }
  end_ = pos_;
  state_ = State::after;
  return t;
}

PARE_INLINE JsonReader::Token JsonReader::read_key() {
  at_ = pos_;
  if (peek() != '"')
    fail_at(pos_, "expected a string (an object member's name), found " +
                      detail::json_describe_byte(text_[pos_]));
  read_string();
  end_ = pos_;
  skip_space();
  if (peek() != ':')
    fail_at(pos_, "expected ':' after an object member's name, found " +
                      detail::json_describe_byte(text_[pos_]));
  ++pos_;
  state_ = State::value;
  return Token::key;
}

PARE_INLINE JsonReader::Token JsonReader::open(char kind, State next) {
  if (stack_.size() >= options_.max_depth)
    fail_at(pos_, "arrays and objects nest deeper than " + std::to_string(options_.max_depth) +
                      " levels");
  stack_.push_back(kind);
  end_ = ++pos_;
  state_ = next;
  return kind == '{' ? Token::begin_object : Token::begin_array;
}

PARE_INLINE JsonReader::Token JsonReader::close() {
  at_ = pos_;
  const bool object = stack_.back() == '{';
  stack_.pop_back();
  end_ = ++pos_;
  state_ = State::after;
  return object ? Token::end_object : Token::end_array;
}

PARE_INLINE void JsonReader::expect_word(std::string_view word) {
  for (std::size_t k = 0; k < word.size(); ++k)
    if (pos_ + k >= text_.size() || text_[pos_ + k] != word[k])
      fail_at(pos_ + k, "invalid literal (expected " + std::string(word) + ")");
  pos_ += word.size();
}

PARE_INLINE void JsonReader::read_string() {
  string_.clear();
  ++pos_;  // the opening quote
  const std::size_t n = text_.size();
  const auto hex4 = [&](std::size_t at) {
    std::uint32_t v = 0;
    for (std::size_t k = 0; k < 4; ++k) {
      if (at + k >= n) fail_at(at + k, "unexpected end of the text in a \\u escape");
      const char c = text_[at + k];
      std::uint32_t d = 0;
      if (c >= '0' && c <= '9')
        d = static_cast<std::uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f')
        d = static_cast<std::uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F')
        d = static_cast<std::uint32_t>(c - 'A' + 10);
      else
        fail_at(at + k,
                "expected a hex digit in a \\u escape, found " + detail::json_describe_byte(c));
      v = v << 4 | d;
    }
    return v;
  };
  for (;;) {
    std::size_t run = pos_;
    while (run < n) {
      const auto c = static_cast<unsigned char>(text_[run]);
      if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80) break;
      ++run;
    }
    string_.append(text_.data() + pos_, run - pos_);
    pos_ = run;
    if (pos_ >= n) fail_at(pos_, "unexpected end of the text in a string");
    const auto c = static_cast<unsigned char>(text_[pos_]);
    if (c == '"') {
      ++pos_;
      return;
    }
    if (c < 0x20)
      fail_at(pos_, "control character " + detail::json_describe_byte(text_[pos_]) +
                        " in a string (it must be escaped)");
    if (c >= 0x80) {
      const std::size_t len = detail::utf8_sequence_length(text_, pos_);
      if (len == 0) fail_at(pos_, "invalid UTF-8 in a string");
      string_.append(text_.data() + pos_, len);
      pos_ += len;
      continue;
    }
    // A backslash.
    if (pos_ + 1 >= n) fail_at(pos_ + 1, "unexpected end of the text in a string");
    const char e = text_[pos_ + 1];
    const char* simple = nullptr;
    switch (e) {
      case '"':
        simple = "\"";
        break;
      case '\\':
        simple = "\\";
        break;
      case '/':
        simple = "/";
        break;
      case 'b':
        simple = "\b";
        break;
      case 'f':
        simple = "\f";
        break;
      case 'n':
        simple = "\n";
        break;
      case 'r':
        simple = "\r";
        break;
      case 't':
        simple = "\t";
        break;
      case 'u':
        break;
      default:
        fail_at(pos_, "invalid escape \\" + std::string(1, e) + " in a string");
    }
    if (simple != nullptr) {
      string_ += *simple;
      pos_ += 2;
      continue;
    }
    const std::size_t at = pos_;
    std::uint32_t cp = hex4(pos_ + 2);
    pos_ += 6;
    if (cp >= 0xDC00 && cp <= 0xDFFF) fail_at(at, "\\u escape of a lone low surrogate");
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      if (pos_ + 1 >= n || text_[pos_] != '\\' || text_[pos_ + 1] != 'u')
        fail_at(at, "\\u escape of a high surrogate without a low one after it");
      const std::uint32_t low = hex4(pos_ + 2);
      if (low < 0xDC00 || low > 0xDFFF)
        fail_at(pos_, "\\u escape after a high surrogate is not a low surrogate");
      cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
      pos_ += 6;
    }
    const auto put = [&](std::uint32_t b) { string_ += static_cast<char>(b); };
    if (cp < 0x80) {
      put(cp);
    } else if (cp < 0x800) {
      put(0xC0 | cp >> 6);
      put(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      put(0xE0 | cp >> 12);
      put(0x80 | (cp >> 6 & 0x3F));
      put(0x80 | (cp & 0x3F));
    } else {
      put(0xF0 | cp >> 18);
      put(0x80 | (cp >> 12 & 0x3F));
      put(0x80 | (cp >> 6 & 0x3F));
      put(0x80 | (cp & 0x3F));
    }
  }
}

PARE_INLINE JsonReader::Token JsonReader::read_number() {
  const std::size_t start = pos_;
  const std::size_t n = text_.size();
  const bool negative = text_[pos_] == '-';
  if (negative) ++pos_;
  if (pos_ >= n || !detail::json_digit(text_[pos_])) fail_at(pos_, "expected a digit after '-'");
  // The decimal exponent of the leading non-zero digit, to tell overflow from underflow when
  // from_chars finds the value out of range.
  long long lead = 0;
  bool nonzero = false;
  if (text_[pos_] == '0') {
    ++pos_;
    if (pos_ < n && detail::json_digit(text_[pos_]))
      fail_at(pos_, "a number must not have leading zeros");
  } else {
    nonzero = true;
    while (pos_ < n && detail::json_digit(text_[pos_])) {
      ++pos_;
      ++lead;
    }
    --lead;
  }
  bool integer = true;
  if (pos_ < n && text_[pos_] == '.') {
    integer = false;
    ++pos_;
    if (pos_ >= n || !detail::json_digit(text_[pos_]))
      fail_at(pos_, "expected a digit after the decimal point");
    while (pos_ < n && detail::json_digit(text_[pos_])) {
      if (!nonzero) {
        --lead;
        nonzero = text_[pos_] != '0';
      }
      ++pos_;
    }
  }
  if (pos_ < n && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
    integer = false;
    ++pos_;
    bool minus = false;
    if (pos_ < n && (text_[pos_] == '+' || text_[pos_] == '-')) minus = text_[pos_++] == '-';
    if (pos_ >= n || !detail::json_digit(text_[pos_]))
      fail_at(pos_, "expected a digit in the exponent");
    long long e = 0;
    while (pos_ < n && detail::json_digit(text_[pos_])) {
      if (e < 1'000'000'000) e = e * 10 + (text_[pos_] - '0');
      ++pos_;
    }
    lead += minus ? -e : e;
  }
  const char* first = text_.data() + start;
  const char* last = text_.data() + pos_;
  if (integer) {
    if (negative) {
      std::int64_t v = 0;
      if (std::from_chars(first, last, v).ec == std::errc()) {
        if (v == 0) {  // "-0" is the integer zero
          uint_ = 0;
          return Token::uint64;
        }
        int_ = v;
        return Token::int64;
      }
    } else {
      std::uint64_t v = 0;
      if (std::from_chars(first, last, v).ec == std::errc()) {
        uint_ = v;
        return Token::uint64;
      }
    }
    // An integer beyond 64 bits: a double, as most JSON readers give.
  }
  double d = 0;
  const auto r = std::from_chars(first, last, d);
  if (r.ec == std::errc::result_out_of_range) {
    if (lead >= 0) {
      const std::size_t shown = pos_ - start < 40 ? pos_ - start : 40;
      fail_at(start, "number " + std::string(text_.substr(start, shown)) +
                         " exceeds the range of a double");
    }
    d = negative ? -0.0 : 0.0;
  } else if (r.ec != std::errc() || r.ptr != last) {
    fail_at(start, "invalid number");
  }
  double_ = d;
  return Token::floating;
}

}  // namespace pare
