// SPDX-License-Identifier: Apache-2.0
// pare — the regular expressions of format overrides (quant/mixed_precision.hpp): whole-name
// matching with the ECMAScript syntax std::regex_match used, without <regex>.
//
// Supported: literals; `.` (any byte but \n and \r); classes `[a-z0-9_]`, `[^...]`; escapes
// \d \D \w \W \s \S, \t \n \r \f \v \0, \xHH, \u00HH, and any other escaped character for
// itself; groups `(...)` and `(?:...)`; alternation `|`; quantifiers `*` `+` `?` `{n}` `{n,}`
// `{n,m}` (n, m <= 1000), each optionally lazy (`*?`: the same names match); anchors `^` `$` and
// word boundaries \b \B. Back-references, look-arounds, \cX and POSIX `[[:alpha:]]` are refused
// (ArgumentError), as is what std::regex refuses (an unclosed group or class, a quantifier with
// nothing to repeat). Checked against libstdc++'s std::regex_match on millions of random
// patterns and names: the same matches, and the same patterns refused but for those four.
//
// Matching runs the pattern as an NFA over all positions at once (Thompson's construction,
// Pike's simulation): time is linear in the name for a given pattern, whatever the pattern,
// so `(a*)*b` cannot backtrack exponentially.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "pare/core/config.hpp"

namespace pare::detail {

/// A compiled pattern that matches whole names.
class NameRegex {
 public:
  /// Compiles `pattern`; ArgumentError naming the problem and its position when the syntax is
  /// not supported or not valid.
  explicit NameRegex(std::string_view pattern);
  /// Whether `name` matches the whole pattern (std::regex_match semantics).
  [[nodiscard]] bool matches(std::string_view name) const;

  /// A set of bytes.
  struct ByteSet {
    std::uint64_t bits[4] = {0, 0, 0, 0};
    void add(unsigned char c) noexcept { bits[c >> 6] |= std::uint64_t{1} << (c & 63); }
    [[nodiscard]] bool has(unsigned char c) const noexcept {
      return (bits[c >> 6] >> (c & 63) & 1) != 0;
    }
  };
  enum class Op : std::uint8_t { byte, split, jump, begin, end, boundary, not_boundary, match };
  /// One NFA instruction; `x` and `y` are jump targets relative to the instruction itself, so a
  /// fragment can be copied (repetition) and concatenated unchanged.
  struct Inst {
    Op op = Op::match;
    std::int32_t x = 1;
    std::int32_t y = 1;
    ByteSet set;
  };

 private:
  std::vector<Inst> program_;
};

}  // namespace pare::detail

#ifndef PARE_COMPILED_LIB
#include "pare/quant/detail/name_regex-inl.hpp"
#endif
