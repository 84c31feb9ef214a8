// SPDX-License-Identifier: Apache-2.0
// pare — NF4, QLoRA's 4-bit NormalFloat (Dettmers et al., 2023): 16 levels at quantiles of
// N(0, 1), asymmetric so that 0 is exact, normalized to [-1, 1]; one absmax scale per group
// (QLoRA: 64 weights). Stored as a Lut4Matrix and multiplied by kernels/gemv_lut4.hpp.
//
//   auto q = pare::pack_nf4(w.view(), 64);        // 4 + 32/64 = 4.5 bits per weight
//   pare::gemv(q, x.view(), y.view());            // kernels/gemv_lut4.hpp
#pragma once

#include <cstddef>

#include "pare/quant/lut4.hpp"

namespace pare {

/// The NF4 format: bitsandbytes' NF4 code values (functional.py, `get_4bit_type("nf4")`).
struct Nf4 {
  static constexpr Lut4Codebook levels() noexcept {
    return {-1.0f,
            -0.6961928009986877f,
            -0.5250730514526367f,
            -0.39491748809814453f,
            -0.28444138169288635f,
            -0.18477343022823334f,
            -0.09105003625154495f,
            0.0f,
            0.07958029955625534f,
            0.16093020141124725f,
            0.24611230850220184f,
            0.33791524171829224f,
            0.44070982933044434f,
            0.5626170039176941f,
            0.7229568362236023f,
            1.0f};
  }
};
static_assert(LookupFormat<Nf4>);

/// FP4 (bitsandbytes' "fp4", e2m1 with its 16 values normalized to [-1, 1]) for comparison:
/// the same kernel runs it.
struct Fp4E2M1 {
  static constexpr Lut4Codebook levels() noexcept {
    // ±{0, 0.5, 1, 1.5, 2, 3, 4, 6} / 6, with -0 replaced by a distinct tiny level so the table
    // stays strictly ascending (the code is never chosen for 0: ties go to the lower level).
    return {-1.0f,        -4.0f / 6.0f, -3.0f / 6.0f, -2.0f / 6.0f, -1.5f / 6.0f, -1.0f / 6.0f,
            -0.5f / 6.0f, -1e-30f,      0.0f,         0.5f / 6.0f,  1.0f / 6.0f,  1.5f / 6.0f,
            2.0f / 6.0f,  3.0f / 6.0f,  4.0f / 6.0f,  1.0f};
  }
};
static_assert(LookupFormat<Fp4E2M1>);

/// Packs w as NF4 with one absmax scale per `group` weights (a multiple of 32; QLoRA uses 64).
[[nodiscard]] inline Lut4Matrix pack_nf4(TensorView<const float, 2> w, std::size_t group = 64) {
  return pack_lut4<Nf4>(w, group);
}

}  // namespace pare
