// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: the llama loaders on arbitrary bytes. Input starting with '{' is a Hugging
// Face config.json (hf_llama_config); anything else is a GGUF file, read by load_llama_gguf and,
// when it loads and is small, run for two tokens — so a file that passes the checks must also
// run without reading out of bounds.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "fuzz_util.hpp"
#include "pare/io/gguf.hpp"
#include "pare/llm.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    if (size > 0 && data[0] == '{') {
      const auto c = pare::llm::hf_llama_config(
          std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.json");
      pare::fuzz::touch(std::as_bytes(std::span(&c.hidden, 1)));
      return 0;
    }
    std::vector<std::byte> bytes(reinterpret_cast<const std::byte*>(data),
                                 reinterpret_cast<const std::byte*>(data) + size);
    const pare::io::GgufFile f(pare::io::MappedFile::from_buffer(std::move(bytes), "fuzz.gguf"));
    const auto c = pare::llm::gguf_llama_config(f);
    if (c.weight_count() > double(1 << 20)) return 0;  // keep runs fast
    const auto m = pare::llm::load_llama_gguf(f, {.context = 4});
    pare::llm::KvCache cache(m.config());
    std::vector<float> logits(2 * m.config().vocab_size);
    const std::int32_t ids[2] = {0, static_cast<std::int32_t>(m.config().vocab_size - 1)};
    m.forward(ids, cache, logits);
    pare::fuzz::touch(std::as_bytes(std::span(logits)));
  } catch (const pare::Error&) {
  }
  return 0;
}
