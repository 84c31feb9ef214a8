// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: the zip/.npz reader on arbitrary bytes, reading every entry it lists.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "fuzz_util.hpp"
#include "pare/io/npz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    std::vector<std::byte> bytes(reinterpret_cast<const std::byte*>(data),
                                 reinterpret_cast<const std::byte*>(data) + size);
    const pare::io::NpzFile npz(pare::io::MappedFile::from_buffer(std::move(bytes), "fuzz.npz"));
    for (const auto& name : npz.names()) {
      try {
        const auto a = npz.array(name);
        pare::fuzz::touch(a.data);
      } catch (const pare::Error&) {
      }
    }
  } catch (const pare::Error&) {
  }
  return 0;
}
