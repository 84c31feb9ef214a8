// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: a tokenizer from arbitrary GGUF metadata (hostile token lists, scores, types,
// merges, special ids); what loads must encode and decode a few texts without failing other than
// by a pare::Error.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

#include "fuzz_util.hpp"
#include "pare/io/gguf.hpp"
#include "pare/llm/tokenizer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    std::vector<std::byte> bytes(reinterpret_cast<const std::byte*>(data),
                                 reinterpret_cast<const std::byte*>(data) + size);
    const pare::io::GgufFile f(pare::io::MappedFile::from_buffer(std::move(bytes), "fuzz.gguf"));
    const auto t = pare::llm::Tokenizer::from_gguf(f);
    for (const char* text : {"", "Hello world", " a  b\n\nc ", "<s>x</s><|endoftext|>",
                             "\xe2\x96\x81\xff\x80 \xf0\x9f\xa6\x99 'll 123456"}) {
      for (const bool special : {false, true}) {
        try {
          const auto ids = t.encode(text, special, special);
          for (const std::int32_t id : ids)
            if (id < 0 || static_cast<std::size_t>(id) >= t.size()) std::abort();
          const std::string back = t.decode(ids);
          pare::fuzz::touch(std::as_bytes(std::span<const char>(back.data(), back.size())));
        } catch (const pare::Error&) {
        }
      }
    }
    for (std::size_t id = 0; id < t.size() && id < 64; ++id) {
      const std::string p = t.token_to_piece(static_cast<std::int32_t>(id));
      pare::fuzz::touch(std::as_bytes(std::span<const char>(p.data(), p.size())));
    }
  } catch (const pare::Error&) {
  }
  return 0;
}
