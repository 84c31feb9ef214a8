// SPDX-License-Identifier: Apache-2.0
// pare — definitions for quant/detail/name_regex.hpp: compiled once into pare::compiled, or
// included by the header (core/config.hpp explains the two modes).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pare/core/error_types.hpp"
#include "pare/quant/detail/name_regex.hpp"

namespace pare::detail {

namespace name_regex {

using Inst = NameRegex::Inst;
using Op = NameRegex::Op;
using ByteSet = NameRegex::ByteSet;
using Code = std::vector<Inst>;

/// Programs larger than this (from nested counted repetition) are refused.
inline constexpr std::size_t max_program = 1 << 16;
inline constexpr int max_count = 1000;
inline constexpr int max_nesting = 200;

[[nodiscard]] inline bool word_byte(unsigned char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}
[[nodiscard]] inline bool space_byte(unsigned char c) noexcept {
  return c == ' ' || (c >= '\t' && c <= '\r');
}

class Parser {
 public:
  explicit Parser(std::string_view p) : p_(p) {}

  Code parse() {
    Code c = alternation(0);
    if (i_ < p_.size()) fail("unmatched ')'");
    Inst m;
    m.op = Op::match;
    c.push_back(m);
    return c;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw ArgumentError("regex \"" + std::string(p_.substr(0, 200)) + "\": " + what +
                        " at position " + std::to_string(i_));
  }
  void check_size(const Code& c) const {
    if (c.size() > max_program) fail("the pattern expands to too large a program");
  }
  static Inst op(Op o, std::int32_t x = 1, std::int32_t y = 1) {
    Inst in;
    in.op = o;
    in.x = x;
    in.y = y;
    return in;
  }
  static std::int32_t len(const Code& c) { return static_cast<std::int32_t>(c.size()); }
  static void append(Code& to, const Code& from) { to.insert(to.end(), from.begin(), from.end()); }

  Code alternation(int depth) {
    if (depth > max_nesting) fail("groups nest too deep");
    Code left = concatenation(depth);
    while (i_ < p_.size() && p_[i_] == '|') {
      ++i_;
      Code right = concatenation(depth);
      Code c;
      c.push_back(op(Op::split, 1, len(left) + 2));
      append(c, left);
      c.push_back(op(Op::jump, len(right) + 1));
      append(c, right);
      check_size(c);
      left = std::move(c);
    }
    return left;
  }

  Code concatenation(int depth) {
    Code c;
    while (i_ < p_.size() && p_[i_] != '|' && p_[i_] != ')') {
      assertion_ = false;
      Code a = atom(depth);
      append(c, quantified(std::move(a), assertion_));
      check_size(c);
    }
    return c;
  }

  // Reads a decimal count of a {n,m} quantifier.
  bool count(int& v) {
    const std::size_t start = i_;
    v = 0;
    while (i_ < p_.size() && p_[i_] >= '0' && p_[i_] <= '9') {
      v = v * 10 + (p_[i_] - '0');
      if (v > max_count) fail("repetition counts above " + std::to_string(max_count));
      ++i_;
    }
    return i_ > start;
  }

  // Applies the quantifiers after an atom. Like libstdc++'s std::regex, a quantifier may follow
  // another (`a**` repeats `a*`); `?` right after one makes it lazy, which changes no whole-name
  // match. Assertions cannot be repeated.
  Code quantified(Code a, bool assertion) {
    for (;;) {
      if (i_ >= p_.size()) return a;
      int lo = 0, hi = 0;  // hi < 0: unbounded
      switch (p_[i_]) {
        case '*':
          lo = 0, hi = -1;
          break;
        case '+':
          lo = 1, hi = -1;
          break;
        case '?':
          lo = 0, hi = 1;
          break;
        case '{': {
          ++i_;
          if (!count(lo)) fail("expected a count after '{'");
          hi = lo;
          if (i_ < p_.size() && p_[i_] == ',') {
            ++i_;
            if (!count(hi)) hi = -1;
          }
          if (i_ >= p_.size() || p_[i_] != '}') fail("expected '}'");
          if (hi >= 0 && hi < lo) fail("{n,m} with m < n");
          break;
        }
        default:
          return a;
      }
      if (assertion) fail("nothing to repeat");
      ++i_;
      if (i_ < p_.size() && p_[i_] == '?') ++i_;
      Code c;
      for (int k = 0; k < lo; ++k) {
        append(c, a);
        check_size(c);
      }
      if (hi < 0) {  // a*: split over a, jump back
        c.push_back(op(Op::split, 1, len(a) + 2));
        append(c, a);
        c.push_back(op(Op::jump, -(len(a) + 1)));
      } else {
        for (int k = lo; k < hi; ++k) {  // a? each
          c.push_back(op(Op::split, 1, len(a) + 1));
          append(c, a);
          check_size(c);
        }
      }
      check_size(c);
      a = std::move(c);
    }
  }

  Code set_of(const ByteSet& s) {
    Inst in = op(Op::byte);
    in.set = s;
    return Code{in};
  }

  // \d \w \s and their complements into `s`; false for any other letter.
  static bool class_escape(char e, ByteSet& s) {
    bool (*test)(unsigned char) = nullptr;
    bool negate = false;
    switch (e) {
      case 'd':
      case 'D':
        test = [](unsigned char c) { return c >= '0' && c <= '9'; };
        break;
      case 'w':
      case 'W':
        test = word_byte;
        break;
      case 's':
      case 'S':
        test = space_byte;
        break;
      default:
        return false;
    }
    negate = e >= 'A' && e <= 'Z';
    for (int c = 0; c < 256; ++c)
      if (test(static_cast<unsigned char>(c)) != negate) s.add(static_cast<unsigned char>(c));
    return true;
  }

  // The byte an escape stands for (after the backslash, at i_), for escapes that are one byte.
  unsigned char escaped_byte(bool in_class) {
    const char e = p_[i_++];
    switch (e) {
      case 't':
        return '\t';
      case 'n':
        return '\n';
      case 'r':
        return '\r';
      case 'f':
        return '\f';
      case 'v':
        return '\v';
      case '0':
        return 0;
      case 'b':
        if (in_class) return '\b';
        break;
      case 'c':  // libstdc++ reads \cX as X, ECMAScript as a control character: refuse both
        fail("\\c control escapes are not supported");
      case 'x':
      case 'u': {
        int v = 0;
        for (int k = 0; k < (e == 'x' ? 2 : 4); ++k, ++i_) {
          const char h = i_ < p_.size() ? p_[i_] : '\0';
          const int d = h >= '0' && h <= '9'   ? h - '0'
                        : h >= 'a' && h <= 'f' ? h - 'a' + 10
                        : h >= 'A' && h <= 'F' ? h - 'A' + 10
                                               : -1;
          if (d < 0) fail(e == 'x' ? "\\x needs two hex digits" : "\\u needs four hex digits");
          v = v * 16 + d;
        }
        if (v > 0xFF) fail("\\u escapes above \\u00FF are not supported (names match by byte)");
        return static_cast<unsigned char>(v);
      }
      default:
        break;
    }
    if (e >= '1' && e <= '9') fail("back-references are not supported");
    return static_cast<unsigned char>(e);  // any other escaped character stands for itself
  }

  Code bracket() {
    ++i_;  // '['
    bool negate = false;
    if (i_ < p_.size() && p_[i_] == '^') {
      negate = true;
      ++i_;
    }
    ByteSet s;
    for (;;) {
      if (i_ >= p_.size()) fail("unclosed '['");
      if (p_[i_] == ']') break;  // ECMAScript: "[]" is empty, "[^]" any byte
      if (p_[i_] == '[' && i_ + 1 < p_.size() &&
          (p_[i_ + 1] == ':' || p_[i_ + 1] == '.' || p_[i_ + 1] == '='))
        fail("POSIX classes and collating elements are not supported (use \\d, \\w, \\s)");
      // One class atom: a byte, or a class escape (which cannot start a range).
      int lo = -1;
      if (p_[i_] == '\\') {
        ++i_;
        if (i_ >= p_.size()) fail("unclosed '['");
        if (class_escape(p_[i_], s)) {
          ++i_;
          continue;
        }
        lo = escaped_byte(true);
      } else {
        lo = static_cast<unsigned char>(p_[i_++]);
      }
      int hi = lo;
      if (i_ + 1 < p_.size() && p_[i_] == '-' && p_[i_ + 1] != ']') {
        ++i_;
        if (p_[i_] == '\\') {
          ++i_;
          if (i_ >= p_.size()) fail("unclosed '['");
          ByteSet ignored;
          if (class_escape(p_[i_], ignored)) fail("a class escape cannot end a range");
          hi = escaped_byte(true);
        } else {
          hi = static_cast<unsigned char>(p_[i_++]);
        }
        if (hi < lo) fail("range out of order in '[...]'");
      }
      for (int c = lo; c <= hi; ++c) s.add(static_cast<unsigned char>(c));
    }
    ++i_;  // ']'
    if (negate)
      for (auto& w : s.bits) w = ~w;
    return set_of(s);
  }

  Code atom(int depth) {
    const char c = p_[i_];
    switch (c) {
      case '(': {
        ++i_;
        if (i_ < p_.size() && p_[i_] == '?') {
          if (i_ + 1 < p_.size() && p_[i_ + 1] == ':')
            i_ += 2;
          else
            fail("look-arounds are not supported");
        }
        Code inner = alternation(depth + 1);
        if (i_ >= p_.size() || p_[i_] != ')') fail("unclosed '('");
        ++i_;
        assertion_ = false;  // a group may be repeated, even one holding only an assertion
        return inner;
      }
      case '[':
        return bracket();
      case '.': {
        ++i_;
        ByteSet s;
        for (int b = 0; b < 256; ++b)
          if (b != '\n' && b != '\r') s.add(static_cast<unsigned char>(b));
        return set_of(s);
      }
      case '^':
        ++i_;
        assertion_ = true;
        return Code{op(Op::begin)};
      case '$':
        ++i_;
        assertion_ = true;
        return Code{op(Op::end)};
      case '*':
      case '+':
      case '?':
      case '{':
        fail("nothing to repeat");
      case '\\': {
        ++i_;
        if (i_ >= p_.size()) fail("trailing backslash");
        if (p_[i_] == 'b' || p_[i_] == 'B') {
          assertion_ = true;
          return Code{op(p_[i_++] == 'b' ? Op::boundary : Op::not_boundary)};
        }
        ByteSet s;
        if (class_escape(p_[i_], s)) {
          ++i_;
          return set_of(s);
        }
        s.add(escaped_byte(false));
        return set_of(s);
      }
      default: {
        ++i_;
        ByteSet s;
        s.add(static_cast<unsigned char>(c));
        return set_of(s);
      }
    }
  }

  std::string_view p_;
  std::size_t i_ = 0;
  bool assertion_ = false;  // the last atom was ^, $, \b or \B
};

}  // namespace name_regex

PARE_INLINE NameRegex::NameRegex(std::string_view pattern)
    : program_(name_regex::Parser(pattern).parse()) {}

PARE_INLINE bool NameRegex::matches(std::string_view s) const {
  const std::size_t n = program_.size();
  constexpr std::size_t none = static_cast<std::size_t>(-1);
  std::vector<std::size_t> current, next, stack;
  std::vector<std::size_t> seen(n, none);  // the position a state was last added at
  const auto word_at = [&](std::size_t pos) {
    return pos < s.size() && name_regex::word_byte(static_cast<unsigned char>(s[pos]));
  };
  // Adds `pc` and every state reachable from it without reading a byte.
  const auto add = [&](std::vector<std::size_t>& list, std::size_t pc, std::size_t pos) {
    stack.push_back(pc);
    while (!stack.empty()) {
      const std::size_t at = stack.back();
      stack.pop_back();
      if (seen[at] == pos) continue;
      seen[at] = pos;
      const Inst& in = program_[at];
      const auto target = [&](std::int32_t rel) {
        return static_cast<std::size_t>(static_cast<std::ptrdiff_t>(at) + rel);
      };
      const bool boundary = word_at(pos) != (pos > 0 && word_at(pos - 1));
      switch (in.op) {
        case Op::jump:
          stack.push_back(target(in.x));
          break;
        case Op::split:
          stack.push_back(target(in.y));
          stack.push_back(target(in.x));
          break;
        case Op::begin:
          if (pos == 0) stack.push_back(at + 1);
          break;
        case Op::end:
          if (pos == s.size()) stack.push_back(at + 1);
          break;
        case Op::boundary:
          if (boundary) stack.push_back(at + 1);
          break;
        case Op::not_boundary:
          if (!boundary) stack.push_back(at + 1);
          break;
        case Op::byte:
        case Op::match:
          list.push_back(at);
          break;
      }
    }
  };
  add(current, 0, 0);
  for (std::size_t i = 0; i < s.size() && !current.empty(); ++i) {
    next.clear();
    const auto b = static_cast<unsigned char>(s[i]);
    for (std::size_t pc : current)
      if (program_[pc].op == Op::byte && program_[pc].set.has(b)) add(next, pc + 1, i + 1);
    current.swap(next);
  }
  // A match state only counts at the end: the whole name must match.
  for (std::size_t pc : current)
    if (program_[pc].op == Op::match) return true;
  return false;
}

}  // namespace pare::detail
