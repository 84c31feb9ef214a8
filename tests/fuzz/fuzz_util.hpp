// SPDX-License-Identifier: Apache-2.0
// Helpers shared by the libFuzzer targets.
#pragma once

#include <cstddef>
#include <span>

namespace pare::fuzz {

/// Reads every byte of `bytes`, so a span that points outside its buffer trips AddressSanitizer,
/// and keeps the compiler from discarding the reads.
inline void touch(std::span<const std::byte> bytes) noexcept {
  std::size_t sum = 0;
  for (std::byte b : bytes) sum += static_cast<std::size_t>(b);
  __asm__ volatile("" : : "r"(sum));
}

}  // namespace pare::fuzz
