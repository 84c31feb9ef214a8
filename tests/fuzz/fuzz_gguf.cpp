// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: the GGUF reader on arbitrary bytes; decodes every tensor small enough to
// decode quickly, so the block decoders are fuzzed too.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "fuzz_util.hpp"
#include "pare/io/gguf.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    std::vector<std::byte> bytes(reinterpret_cast<const std::byte*>(data),
                                 reinterpret_cast<const std::byte*>(data) + size);
    const pare::io::GgufFile f(pare::io::MappedFile::from_buffer(std::move(bytes), "fuzz.gguf"));
    for (const auto& t : f.tensors()) {
      pare::fuzz::touch(f.raw(t.name));
      try {
        if (t.rows() * t.row_length() <= (1u << 16)) {
          const auto x = f.dequantize(t.name);
          pare::fuzz::touch(std::as_bytes(x.span()));
        }
      } catch (const pare::Error&) {
      }
    }
  } catch (const pare::Error&) {
  }
  return 0;
}
