// SPDX-License-Identifier: Apache-2.0
// pare — dynamic per-token (per-row) activation quantization, f32 -> u8 (affine) or s8
// (symmetric), for int8 linear layers at inference time.
//
// When to use which:
//   - u8 affine (quantize_rows_u8): ReLU outputs and anything not centred on zero; the int8 GEMM
//     folds the zero point into its epilogue (Σ_k B[n,k] is precomputed), so it costs nothing.
//     Parameters are chosen exactly as fbgemm / PyTorch's dynamic quantized Linear choose them
//     (choose_u8_params), so a row quantizes to the same codes as
//     torch.quantize_per_tensor_dynamic.
//   - s8 symmetric (quantize_rows_s8): signed activations with a symmetric range; scale =
//     max|x| / 127, codes in [-127, 127].
// Codes are q = clamp(nearbyint(x * (1 / scale)) + zero_point), round half to even, the same in
// the vector kernel and the scalar reference (bit-identical).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "pare/core/config.hpp"
#include "pare/quant/concepts.hpp"

namespace pare {

/// Scale and zero point for u8 codes covering [min(lo, 0), max(hi, 0)]: fbgemm's
/// ChooseQuantizationParams (qmin 0, qmax 255, no sparsity preservation), which PyTorch's dynamic
/// quantized Linear uses; scales below 6.1e-5 are raised to it so tiny rows do not blow up.
[[nodiscard]] QuantParams choose_u8_params(float lo, float hi) noexcept;

/// Scale for symmetric s8 codes in [-127, 127] covering max|x|; 1 for an all-zero row.
[[nodiscard]] inline float choose_s8_scale(float absmax) noexcept {
  return absmax > 0 && std::isfinite(absmax) ? absmax / 127.0f : 1.0f;
}

/// Quantizes each of `rows` rows of x ([rows, cols], row stride `ldx` floats) to u8 with its own
/// affine parameters (choose_u8_params over the row); writes codes to q ([rows, cols], stride
/// `ldq`) and each row's scale and zero point to `scales` and `zeros` (the arrays the int8 GEMM's
/// DequantF32 epilogue reads). NaN inputs give unspecified codes. The kernels are in
/// quant/dynamic_kernels.hpp.
/// @param reference use the scalar reference instead of the SIMD kernel (tests)
void quantize_rows_u8(const float* x, std::size_t rows, std::size_t cols, std::size_t ldx,
                      std::uint8_t* q, std::size_t ldq, float* scales, std::int32_t* zeros,
                      bool reference = false) noexcept;

/// Quantizes every row to u8 with the same (static, calibrated) parameters.
void quantize_rows_u8(const float* x, std::size_t rows, std::size_t cols, std::size_t ldx,
                      QuantParams params, std::uint8_t* q, std::size_t ldq,
                      bool reference = false) noexcept;

/// Quantizes each row to symmetric s8 in [-127, 127] with scale max|x_row| / 127; writes one
/// scale per row to `scales`.
void quantize_rows_s8(const float* x, std::size_t rows, std::size_t cols, std::size_t ldx,
                      std::int8_t* q, std::size_t ldq, float* scales,
                      bool reference = false) noexcept;

}  // namespace pare

#ifndef PARE_COMPILED_LIB
#include "pare/quant/dynamic-inl.hpp"
#endif
