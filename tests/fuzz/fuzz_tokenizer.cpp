// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: arbitrary bytes as text through the llama (SPM) and GPT-2 (BPE) tokenizers
// of tests/data/llm/vocab (scripts/fuzz.sh runs from the repository root); the first byte picks
// add_special / parse_special. Every id must be in the vocabulary and decode must not fail.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <string_view>

#include "fuzz_util.hpp"
#include "pare/io/gguf.hpp"
#include "pare/llm/tokenizer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using pare::llm::Tokenizer;
  static const Tokenizer spm = Tokenizer::from_gguf(
      pare::io::GgufFile::open("tests/data/llm/vocab/ggml-vocab-llama-spm.gguf"));
  static const Tokenizer bpe =
      Tokenizer::from_gguf(pare::io::GgufFile::open("tests/data/llm/vocab/ggml-vocab-gpt-2.gguf"));
  if (size == 0) return 0;
  const bool add_special = (data[0] & 1) != 0;
  const bool parse_special = (data[0] & 2) != 0;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  for (const pare::llm::Tokenizer* t : {&spm, &bpe}) {
    const auto ids = t->encode(text, add_special, parse_special);
    for (const std::int32_t id : ids)
      if (id < 0 || static_cast<std::size_t>(id) >= t->size()) std::abort();
    const std::string back = t->decode(ids);
    pare::fuzz::touch(std::as_bytes(std::span<const char>(back.data(), back.size())));
    // Byte fallback makes SPM lossless on text without spaces (the space prefix and U+2581
    // read as a space are the only changes it makes).
    if (t == &spm && !add_special && !parse_special && text.find(' ') == std::string_view::npos &&
        text.find("\xe2\x96\x81") == std::string_view::npos && back != text)
      std::abort();
  }
  return 0;
}
