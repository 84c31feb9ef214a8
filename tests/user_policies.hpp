// SPDX-License-Identifier: Apache-2.0
// Quantization policies a user might write, shared by the tests that prove they reach pare's
// kernels and files (tests/kernels, tests/nn, tests/io) and by bench/kernels/gemv_codes4_bench.cpp.
#pragma once

#include <xsimd/xsimd.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <span>

#include "pare/quant/concepts.hpp"

namespace pare::test {

/// A 4-bit format with only a scalar decode (the kernel tabulates it): ±2^(-k/2).
struct LogScale4 {
  static constexpr const char* name = "logscale4";
  static constexpr int bits = 4;
  static float decode(unsigned c) noexcept {
    const int k = c < 8 ? static_cast<int>(c) : static_cast<int>(15 - c);
    return (c < 8 ? -1.0f : 1.0f) * std::exp2(-0.5f * static_cast<float>(k));
  }
};

/// A 4-bit format with a SIMD decode the kernel can inline: a cubic grid ((c - 7.5) / 7.5)^3.
struct Cubic4 {
  static constexpr const char* name = "cubic4";
  static constexpr int bits = 4;
  static constexpr float decode(unsigned c) noexcept {
    const float t = (static_cast<float>(c) - 7.5f) / 7.5f;
    return t * t * t;
  }
  template <class Arch>
  static xsimd::batch<float, Arch> decode(xsimd::batch<std::int32_t, Arch> c) noexcept {
    using B = xsimd::batch<float, Arch>;
    const B t = (xsimd::to_float(c) - B(7.5f)) * B(1.0f / 7.5f);
    return t * t * t;
  }
};

/// LogScale4 on an int8 grid (the built-in codebook's way): the int8 kernel may run it.
struct LogScale4i8 {
  static constexpr const char* name = "logscale4i8";
  static constexpr int bits = 4;
  static constexpr bool int8_levels = true;
  static constexpr float decode(unsigned c) noexcept {
    constexpr float mag[8] = {127, 90, 64, 45, 32, 22, 16, 11};
    return c < 8 ? -mag[c] : mag[15 - c];
  }
};

/// A user's observer: the range seen, shrunk to `keep` of itself (clips outliers).
struct ShrinkingObserver {
  float keep = 0.9f;
  Range r{};
  void observe(std::span<const float> x) {
    for (float v : x) r.lo = std::min(r.lo, v), r.hi = std::max(r.hi, v);
  }
  [[nodiscard]] Range range() const { return r.empty() ? r : Range{keep * r.lo, keep * r.hi}; }
};

}  // namespace pare::test
