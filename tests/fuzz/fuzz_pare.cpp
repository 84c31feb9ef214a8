// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: the .pare reader on arbitrary bytes, verifying and touching every tensor it
// accepts and decoding every quantized group as each built-in policy pair.
#include <cstddef>
#include <cstdint>
#include <vector>

// Mutated JSON would almost never carry a matching header CRC; skip that check to reach the rest.
#define PARE_FUZZ_IGNORE_HEADER_CRC 1

#include "fuzz_util.hpp"
#include "pare/io/pare_file.hpp"
#include "pare/quant/quantized_tensor.hpp"

namespace {

template <class F, class G>
void try_quantized(const pare::io::PareFile& f, const std::string& name) {
  try {
    const auto q = f.quantized<F, G>(name);
    pare::fuzz::touch(std::as_bytes(std::span(q.codes().data(), q.codes().size())));
    (void)pare::dequantize(q);
  } catch (const pare::Error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    std::vector<std::byte> bytes(reinterpret_cast<const std::byte*>(data),
                                 reinterpret_cast<const std::byte*>(data) + size);
    const pare::io::PareFile f(pare::io::MappedFile::from_buffer(std::move(bytes), "fuzz.pare"));
    for (const auto& name : f.names()) {
      pare::fuzz::touch(f.info(name).bytes);
      try {
        f.verify(name);
      } catch (const pare::Error&) {
      }
    }
    for (const auto& g : f.groups()) {
      try_quantized<pare::Int<4>, pare::PerGroup<32>>(f, g);
      try_quantized<pare::Int<8>, pare::PerChannel>(f, g);
      try_quantized<pare::UInt<4>, pare::PerTensor>(f, g);
    }
  } catch (const pare::Error&) {
  }
  return 0;
}
