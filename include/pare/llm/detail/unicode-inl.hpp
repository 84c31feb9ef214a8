// SPDX-License-Identifier: Apache-2.0
// pare — definitions for llm/detail/unicode.hpp: compiled once into pare::compiled, or included
// by the header in header-only builds.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "pare/core/config.hpp"
#include "pare/llm/detail/unicode.hpp"
#include "pare/llm/detail/unicode_data.hpp"

namespace pare::llm::detail {

PARE_INLINE std::uint32_t decode_utf8(std::string_view s, std::size_t& offset) noexcept {
  constexpr std::uint32_t replacement = 0xFFFD;
  const auto at = [&](std::size_t i) {
    return static_cast<std::uint32_t>(static_cast<std::uint8_t>(s[i]));
  };
  const auto cont = [&](std::size_t i) { return i < s.size() && (at(i) & 0xC0u) == 0x80u; };
  const std::uint32_t c = at(offset);
  // Same acceptance as llama.cpp's unicode_cpt_from_utf8 (overlong forms included), so that the
  // text re-encoded from code points is byte-for-byte what llama.cpp tokenizes.
  if ((c & 0x80u) == 0) {
    offset += 1;
    return c;
  }
  if ((c & 0x40u) == 0) {
    offset += 1;
    return replacement;
  }
  if ((c & 0x20u) == 0) {
    if (!cont(offset + 1)) {
      offset += 1;
      return replacement;
    }
    const std::uint32_t r = ((c & 0x1Fu) << 6) | (at(offset + 1) & 0x3Fu);
    offset += 2;
    return r;
  }
  if ((c & 0x10u) == 0) {
    if (!cont(offset + 1) || !cont(offset + 2)) {
      offset += 1;
      return replacement;
    }
    const std::uint32_t r =
        ((c & 0x0Fu) << 12) | ((at(offset + 1) & 0x3Fu) << 6) | (at(offset + 2) & 0x3Fu);
    offset += 3;
    return r;
  }
  if ((c & 0x08u) == 0) {
    if (!cont(offset + 1) || !cont(offset + 2) || !cont(offset + 3)) {
      offset += 1;
      return replacement;
    }
    const std::uint32_t r = ((c & 0x07u) << 18) | ((at(offset + 1) & 0x3Fu) << 12) |
                            ((at(offset + 2) & 0x3Fu) << 6) | (at(offset + 3) & 0x3Fu);
    if (r > 0x10FFFFu) {
      offset += 1;
      return replacement;
    }
    offset += 4;
    return r;
  }
  offset += 1;
  return replacement;
}

PARE_INLINE std::vector<std::uint32_t> decode_utf8(std::string_view s) {
  std::vector<std::uint32_t> out;
  out.reserve(s.size());
  std::size_t offset = 0;
  while (offset < s.size()) out.push_back(decode_utf8(s, offset));
  return out;
}

PARE_INLINE void append_utf8(std::string& out, std::uint32_t cpt) {
  const auto put = [&](std::uint32_t b) {
    out.push_back(static_cast<char>(static_cast<std::uint8_t>(b)));
  };
  if (cpt <= 0x7Fu) {
    put(cpt);
  } else if (cpt <= 0x7FFu) {
    put(0xC0u | (cpt >> 6));
    put(0x80u | (cpt & 0x3Fu));
  } else if (cpt <= 0xFFFFu) {
    put(0xE0u | (cpt >> 12));
    put(0x80u | ((cpt >> 6) & 0x3Fu));
    put(0x80u | (cpt & 0x3Fu));
  } else {
    put(0xF0u | ((cpt >> 18) & 0x07u));
    put(0x80u | ((cpt >> 12) & 0x3Fu));
    put(0x80u | ((cpt >> 6) & 0x3Fu));
    put(0x80u | (cpt & 0x3Fu));
  }
}

PARE_INLINE CptClass cpt_class(std::uint32_t cpt) noexcept {
  if (std::binary_search(std::begin(unicode_whitespace), std::end(unicode_whitespace), cpt))
    return CptClass::whitespace;
  if (cpt > 0x10FFFFu) return CptClass::other;
  // The last run start <= cpt: runs are sorted by start, stored as (start << 2) | class.
  const std::uint32_t key = (cpt << 2) | 3u;
  const auto* it =
      std::upper_bound(std::begin(unicode_class_runs), std::end(unicode_class_runs), key);
  return static_cast<CptClass>(*(it - 1) & 3u);
}

namespace unicode_tables {

// GPT-2's bytes_to_unicode: printable bytes stand for themselves, the other 68 map to 256...323
// in byte order.
struct ByteMaps {
  std::uint32_t to_cpt[256] = {};
  std::int16_t to_byte[324] = {};
};

[[nodiscard]] constexpr ByteMaps make_byte_maps() noexcept {
  ByteMaps m;
  for (auto& b : m.to_byte) b = -1;
  std::uint32_t n = 0;
  for (std::uint32_t b = 0; b < 256; ++b) {
    const bool printable = (b >= 0x21u && b <= 0x7Eu) || (b >= 0xA1u && b <= 0xACu) || b >= 0xAEu;
    m.to_cpt[b] = printable ? b : 256u + n++;
    m.to_byte[m.to_cpt[b]] = static_cast<std::int16_t>(b);
  }
  return m;
}

inline constexpr ByteMaps byte_maps = make_byte_maps();

}  // namespace unicode_tables

PARE_INLINE std::uint32_t byte_to_cpt(std::uint8_t b) noexcept {
  return unicode_tables::byte_maps.to_cpt[b];
}

PARE_INLINE int cpt_to_byte(std::uint32_t cpt) noexcept {
  return cpt < 324u ? unicode_tables::byte_maps.to_byte[cpt] : -1;
}

namespace split {

// Position helpers shared by the two matchers: -1 = past the end of the text.
struct Text {
  const std::vector<std::uint32_t>& cpts;
  static constexpr std::uint32_t out_of_range = 0xFFFFFFFFu;
  [[nodiscard]] std::uint32_t cpt(std::size_t pos) const {
    return pos < cpts.size() ? cpts[pos] : out_of_range;
  }
  [[nodiscard]] int cls(std::size_t pos) const {
    return pos < cpts.size() ? static_cast<int>(cpt_class(cpts[pos])) : -1;
  }
  [[nodiscard]] bool letter(std::size_t pos) const { return cls(pos) == 1; }
  [[nodiscard]] bool number(std::size_t pos) const { return cls(pos) == 2; }
  [[nodiscard]] bool space(std::size_t pos) const { return cls(pos) == 3; }
  // [^\s\p{L}\p{N}] over a real code point
  [[nodiscard]] bool other(std::size_t pos) const { return cls(pos) == 0; }
};

}  // namespace split

PARE_INLINE std::vector<std::size_t> split_gpt2(const std::vector<std::uint32_t>& cpts) {
  std::vector<std::size_t> out;
  const split::Text t{cpts};
  const std::size_t end = cpts.size();
  std::size_t prev_end = 0;
  const auto add = [&](std::size_t e) {
    const std::size_t len = e - prev_end;
    if (len > 0) out.push_back(len);
    prev_end = e;
    return len;
  };
  for (std::size_t pos = 0; pos < end;) {
    const std::uint32_t c = t.cpt(pos);
    if (c == '\'' && pos + 1 < end) {  // 's|'t|'re|'ve|'m|'ll|'d
      const std::uint32_t n = t.cpt(pos + 1);
      if (n == 's' || n == 't' || n == 'm' || n == 'd') {
        pos += add(pos + 2);
        continue;
      }
      if (pos + 2 < end) {
        const std::uint32_t nn = t.cpt(pos + 2);
        if ((n == 'r' && nn == 'e') || (n == 'v' && nn == 'e') || (n == 'l' && nn == 'l')) {
          pos += add(pos + 3);
          continue;
        }
      }
    }
    const std::size_t look = c == ' ' ? pos + 1 : pos;
    const int k = t.cls(look);
    if (k == 1 || k == 2 || k == 0) {  // ' ?\p{L}+', ' ?\p{N}+', ' ?[^\s\p{L}\p{N}]+'
      pos = look;
      while (t.cls(pos) == k) ++pos;
      add(pos);
      continue;
    }
    std::size_t ws = 0;
    while (t.space(pos + ws)) ++ws;
    if (ws > 1 && t.cpt(pos + ws) != split::Text::out_of_range) {  // \s+(?!\S)
      pos += ws - 1;
      add(pos);
      continue;
    }
    if (ws > 0) {  // \s+
      pos += ws;
      add(pos);
      continue;
    }
    add(++pos);
  }
  return out;
}

PARE_INLINE std::vector<std::size_t> split_llama3(const std::vector<std::uint32_t>& cpts) {
  std::vector<std::size_t> out;
  const split::Text t{cpts};
  const std::size_t end = cpts.size();
  std::size_t prev_end = 0;
  const auto add = [&](std::size_t e) {
    const std::size_t len = e - prev_end;
    if (len > 0) out.push_back(len);
    prev_end = e;
    return len;
  };
  // Only ASCII letters lower-case to the letters the contractions test (llama.cpp's tables map
  // U+0130 to 'i' and U+212A to 'k', neither of which is tested).
  const auto lower = [](std::uint32_t c) { return c >= 'A' && c <= 'Z' ? c + 32u : c; };
  for (std::size_t pos = 0; pos < end;) {
    const std::uint32_t c = t.cpt(pos);
    const int k = t.cls(pos);
    if (c == '\'' && pos + 1 < end) {  // (?i:'s|'t|'re|'ve|'m|'ll|'d)
      const std::uint32_t n = lower(t.cpt(pos + 1));
      if (n == 's' || n == 't' || n == 'm' || n == 'd') {
        pos += add(pos + 2);
        continue;
      }
      if (pos + 2 < end) {
        const std::uint32_t nn = lower(t.cpt(pos + 2));
        if ((n == 'r' && nn == 'e') || (n == 'v' && nn == 'e') || (n == 'l' && nn == 'l')) {
          pos += add(pos + 3);
          continue;
        }
      }
    }
    if (!(c == '\r' || c == '\n' || k == 2)) {  // [^\r\n\p{L}\p{N}]?\p{L}+
      if (k == 1 || t.letter(pos + 1)) {
        ++pos;
        while (t.letter(pos)) ++pos;
        add(pos);
        continue;
      }
    }
    if (k == 2) {  // \p{N}{1,3}
      std::size_t ini = pos;
      while (t.number(pos)) {
        if (++pos - ini >= 3) {
          add(pos);
          ini = pos;
        }
      }
      add(pos);
      continue;
    }
    // ' ?[^\s\p{L}\p{N}]+[\r\n]*'
    const std::size_t look = c == ' ' ? pos + 1 : pos;
    if (t.other(look) && k != -1) {
      pos = look;
      while (t.other(pos)) ++pos;
      std::uint32_t c2 = t.cpt(pos);
      while (c2 == '\r' || c2 == '\n') c2 = t.cpt(++pos);
      add(pos);
      continue;
    }
    std::size_t ws = 0;
    std::size_t last_rn = 0;
    while (t.space(pos + ws)) {
      const std::uint32_t c2 = t.cpt(pos + ws);
      if (c2 == '\r' || c2 == '\n') last_rn = pos + ws + 1;
      ++ws;
    }
    if (last_rn > 0) {  // \s*[\r\n]+
      pos = last_rn;
      add(pos);
      continue;
    }
    if (ws > 1 && t.cpt(pos + ws) != split::Text::out_of_range) {  // \s+(?!\S)
      pos += ws - 1;
      add(pos);
      continue;
    }
    if (ws > 0) {  // \s+
      pos += ws;
      add(pos);
      continue;
    }
    add(++pos);
  }
  return out;
}

}  // namespace pare::llm::detail
