// SPDX-License-Identifier: Apache-2.0
// pare — the Unicode pieces of the tokenizer: UTF-8 decoding as llama.cpp does it, the code point
// classes the pre-tokenizers ask about, GPT-2's byte-to-character map, and the "gpt2" and "llama3"
// pre-tokenizer splits (hand-written matchers of their regexes, as llama.cpp's unicode.cpp has).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pare::llm::detail {

/// Class of a code point for the pre-tokenizer regexes.
enum class CptClass : std::uint8_t { other, letter, number, whitespace };

/// Bytes of the UTF-8 sequence that `lead` starts, from its high nibble alone (1 for a
/// continuation byte), as llama.cpp's unicode_len_utf8.
[[nodiscard]] constexpr std::size_t utf8_len(char lead) noexcept {
  constexpr std::size_t lookup[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
  return lookup[static_cast<std::uint8_t>(lead) >> 4];
}

/// Decodes the code point at `offset` and advances past it. A byte that does not start a
/// complete sequence decodes as U+FFFD and advances by one (llama.cpp's unicode_cpts_from_utf8);
/// so does a four-byte sequence above U+10FFFF, which llama.cpp could not re-encode.
[[nodiscard]] std::uint32_t decode_utf8(std::string_view s, std::size_t& offset) noexcept;

/// All code points of `s`, decoded as decode_utf8 does.
[[nodiscard]] std::vector<std::uint32_t> decode_utf8(std::string_view s);

/// Appends the UTF-8 encoding of `cpt` (<= U+10FFFF; surrogates are encoded as they are).
void append_utf8(std::string& out, std::uint32_t cpt);

/// Letter / number / whitespace / other, from llama.cpp's tables.
[[nodiscard]] CptClass cpt_class(std::uint32_t cpt) noexcept;

/// GPT-2's printable character for byte `b` (bytes_to_unicode).
[[nodiscard]] std::uint32_t byte_to_cpt(std::uint8_t b) noexcept;
/// The byte whose GPT-2 character is `cpt`, or -1.
[[nodiscard]] int cpt_to_byte(std::uint32_t cpt) noexcept;

/// Lengths (in code points) of the pieces the GPT-2 regex
/// 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+ cuts `cpts` into.
[[nodiscard]] std::vector<std::size_t> split_gpt2(const std::vector<std::uint32_t>& cpts);
/// Lengths of the pieces of llama 3's regex (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|
/// \p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+.
[[nodiscard]] std::vector<std::size_t> split_llama3(const std::vector<std::uint32_t>& cpts);

}  // namespace pare::llm::detail

#ifndef PARE_COMPILED_LIB
#include "pare/llm/detail/unicode-inl.hpp"
#endif
