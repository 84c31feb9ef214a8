// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: the safetensors reader on arbitrary bytes, touching every tensor it accepts.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "fuzz_util.hpp"
#include "pare/io/safetensors.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    std::vector<std::byte> bytes(reinterpret_cast<const std::byte*>(data),
                                 reinterpret_cast<const std::byte*>(data) + size);
    const pare::io::SafetensorsFile f(
        pare::io::MappedFile::from_buffer(std::move(bytes), "fuzz.safetensors"));
    for (const auto& name : f.names()) pare::fuzz::touch(f.info(name).bytes);
  } catch (const pare::Error&) {
  }
  return 0;
}
