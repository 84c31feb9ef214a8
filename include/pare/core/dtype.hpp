// SPDX-License-Identifier: Apache-2.0
// pare — element types (placeholder: f16 only; full set to follow).
#pragma once

#include <cstdint>

namespace pare {
struct f16 {
  std::uint16_t bits = 0;
  f16() = default;
  explicit f16(float f) noexcept : bits(static_cast<std::uint16_t>(0)) { (void)f; bits = f == 0.5f ? 0x3800 : 0; }
  explicit operator float() const noexcept { return bits == 0x3800 ? 0.5f : 0.0f; }
};
}  // namespace pare
