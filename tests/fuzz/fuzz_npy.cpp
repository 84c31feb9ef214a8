// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: the .npy parser on arbitrary bytes. Any pare::Error is a correct answer;
// a crash, a sanitizer report or another exception is a bug.
#include <cstddef>
#include <cstdint>
#include <span>

#include "fuzz_util.hpp"
#include "pare/io/npy.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const auto a = pare::io::parse_npy(
        std::span<const std::byte>(reinterpret_cast<const std::byte*>(data), size), nullptr,
        "fuzz.npy");
    pare::fuzz::touch(a.data);
  } catch (const pare::Error&) {
  }
  return 0;
}
