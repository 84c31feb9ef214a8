// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: the digits CSV parser on arbitrary text.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_util.hpp"
#include "pare/io/digits.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const auto d = pare::detail::parse_digits(
        "fuzz.csv", std::string(reinterpret_cast<const char*>(data), size));
    pare::fuzz::touch(std::as_bytes(d.x.span()));
  } catch (const pare::Error&) {
  }
  return 0;
}
