// SPDX-License-Identifier: Apache-2.0
// pare — a strict RFC 8259 JSON reader that hands out one token at a time (a pull parser).
//
// Json::parse (core/json.hpp) builds a value from it; a reader with a fixed schema (the
// safetensors header) walks the tokens itself and so never builds more than the schema allows.
//
//     using T = pare::JsonReader::Token;
//     pare::JsonReader r(R"({"shape": [2, 3]})");
//     r.next();                                           // T::begin_object
//     for (T t = r.next(); t == T::key; t = r.next()) {   // r.string() == "shape"
//       if (r.next() != T::begin_array) r.fail("expected an array");
//       while (r.next() == T::uint64) use(r.uint64());    // 2, 3; then T::end_array
//     }                                                   // stops at T::end_object
//
// Strict means: one value, then only whitespace; strings are valid UTF-8 (RFC 3629: no
// overlong forms, no surrogates, nothing above U+10FFFF) without raw control characters, escapes
// are the eight of RFC 8259 plus \uXXXX with surrogates in pairs; numbers follow the grammar (no
// leading zeros, no '+', no '.5', no NaN or Infinity). Every error is a JsonParseError carrying
// the byte offset where the text stops being valid. The reader keeps no keys, so duplicate keys
// are its consumer's to refuse (Json::parse does).
//
// Numbers: an integer token that fits is an int64 (negative) or uint64 (non-negative) token;
// any other integer, and every number with a fraction or an exponent, is a double, correctly
// rounded (std::from_chars). A magnitude beyond the largest double is an error; one that rounds
// below the smallest subnormal becomes zero of the same sign (`1e-400` is 0.0, `-1e-400` -0.0).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "pare/core/config.hpp"
#include "pare/core/error_types.hpp"

namespace pare {

/// Limits and naming for a parse.
struct JsonParseOptions {
  /// Arrays and objects nested deeper than this are an error (`[[1]]` nests 2 deep; a scalar 0).
  std::size_t max_depth = 512;
  /// Names the text in error messages (a file name); messages quote at most a short excerpt.
  std::string_view source = "JSON";
};

/// The text is not valid JSON (or exceeds a limit): a FormatError whose `offset()` is the byte
/// of the text where parsing stopped and whose `field()` is "json".
class JsonParseError : public FormatError {
 public:
  JsonParseError(std::string_view source, std::uint64_t offset, std::string reason)
      : FormatError(std::string(source), "json", offset, reason), reason_(std::move(reason)) {}
  /// The message without the source and offset ("invalid escape \q").
  [[nodiscard]] const std::string& reason() const noexcept { return reason_; }

 private:
  std::string reason_;
};

/// Reads a JSON text token by token, validating as it goes.
/// @pre `text` outlives the reader.
class JsonReader {
 public:
  enum class Token : std::uint8_t {
    begin_object,
    end_object,
    begin_array,
    end_array,
    key,  ///< an object member's name, in string(); its value is the next token
    null,
    boolean,   ///< boolean()
    int64,     ///< a negative integer, int64()
    uint64,    ///< a non-negative integer, uint64()
    floating,  ///< any other number, floating()
    string,    ///< string()
    end,       ///< the value is complete and only whitespace followed; returned again after
  };

  explicit JsonReader(std::string_view text, JsonParseOptions options = {}) noexcept
      : text_(text), options_(options) {}

  /// The next token; JsonParseError at the first byte that is not valid JSON.
  Token next();

  /// Byte offset of the current token's first character.
  [[nodiscard]] std::size_t offset() const noexcept { return at_; }
  /// The current token's text as written (a number's digits; a string with quotes and escapes).
  [[nodiscard]] std::string_view raw() const noexcept { return text_.substr(at_, end_ - at_); }
  /// Arrays and objects open at this point.
  [[nodiscard]] std::size_t depth() const noexcept { return stack_.size(); }

  [[nodiscard]] bool boolean() const noexcept { return bool_; }
  [[nodiscard]] std::int64_t int64() const noexcept { return int_; }
  [[nodiscard]] std::uint64_t uint64() const noexcept { return uint_; }
  [[nodiscard]] double floating() const noexcept { return double_; }
  /// The unescaped text of the current string or key token (movable from).
  [[nodiscard]] std::string& string() noexcept { return string_; }
  [[nodiscard]] const std::string& string() const noexcept { return string_; }

  /// Throws JsonParseError at the current token: for a consumer whose schema the token breaks.
  [[noreturn]] void fail(std::string what) const { fail_at(at_, std::move(what)); }
  [[noreturn]] void fail_at(std::size_t offset, std::string what) const;

 private:
  enum class State : std::uint8_t { value, first_member, first_element, after, done };

  void skip_space() noexcept;
  Token read_value();
  Token read_key();
  Token open(char kind, State next);
  Token close();
  void read_string();
  Token read_number();
  void expect_word(std::string_view word);
  [[nodiscard]] char peek() const;

  std::string_view text_;
  JsonParseOptions options_;
  std::size_t pos_ = 0;
  std::size_t at_ = 0;
  std::size_t end_ = 0;
  State state_ = State::value;
  std::string stack_;  // '{' or '[' per open container
  bool bool_ = false;
  std::int64_t int_ = 0;
  std::uint64_t uint_ = 0;
  double double_ = 0;
  std::string string_;
};

namespace detail {
/// Length of the valid UTF-8 sequence starting at `s[i]` (RFC 3629), or 0 if it is not one.
[[nodiscard]] std::size_t utf8_sequence_length(std::string_view s, std::size_t i) noexcept;
}  // namespace detail

}  // namespace pare

#ifndef PARE_COMPILED_LIB
#include "pare/core/json_reader-inl.hpp"
#endif
