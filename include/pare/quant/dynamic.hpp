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

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <utility>

#include "pare/core/error.hpp"
#include "pare/quant/concepts.hpp"
#include "pare/simd/arch.hpp"

namespace pare {

/// Scale and zero point for u8 codes covering [min(lo, 0), max(hi, 0)]: fbgemm's
/// ChooseQuantizationParams (qmin 0, qmax 255, no sparsity preservation), which PyTorch's dynamic
/// quantized Linear uses; scales below 6.1e-5 are raised to it so tiny rows do not blow up.
[[nodiscard]] inline QuantParams choose_u8_params(float lo, float hi) noexcept {
  constexpr float small_scale = 6.1e-5f;
  constexpr int qmin = 0, qmax = 255;
  float mn = std::min(lo, 0.0f), mx = std::max(hi, 0.0f);
  double scale = static_cast<double>(mx - mn) / (qmax - qmin);
  if (static_cast<float>(scale) == 0.0f || std::isinf(1.0f / static_cast<float>(scale)))
    scale = 0.1;
  if (scale < small_scale) {
    const float org = static_cast<float>(scale);
    scale = small_scale;
    if (mn == 0.0f) {
      mx = small_scale * (qmax - qmin);
    } else if (mx == 0.0f) {
      mn = -small_scale * (qmax - qmin);
    } else {
      const float amp = small_scale / org;
      mn *= amp;
      mx *= amp;
    }
  }
  const double from_min = qmin - mn / scale, from_max = qmax - mx / scale;
  const double err_min = std::abs(qmin) + std::abs(mn / scale);
  const double err_max = std::abs(qmax) + std::abs(mx / scale);
  const double zp = err_min < err_max ? from_min : from_max;
  std::int32_t nudged = 0;
  if (!(zp >= qmin))  // also a NaN from a non-finite row: defined codes, never UB
    nudged = qmin;
  else if (zp > qmax)
    nudged = qmax;
  else
    nudged = static_cast<std::int32_t>(std::nearbyint(zp));
  return {static_cast<float>(scale), nudged};
}

/// Scale for symmetric s8 codes in [-127, 127] covering max|x|; 1 for an all-zero row.
[[nodiscard]] inline float choose_s8_scale(float absmax) noexcept {
  return absmax > 0 && std::isfinite(absmax) ? absmax / 127.0f : 1.0f;
}

namespace kernels {

/// Scalar reference: min and max of x[0, n) (0, 0 for n = 0).
inline void minmax_reference(const float* x, std::size_t n, float& lo, float& hi) noexcept {
  lo = n ? x[0] : 0.0f;
  hi = lo;
  for (std::size_t i = 1; i < n; ++i) {
    lo = std::min(lo, x[i]);
    hi = std::max(hi, x[i]);
  }
}

/// Scalar reference: q[i] = clamp(nearbyint(x[i] * inv_scale) + zero_point, qmin, qmax).
template <class Code>
inline void quantize_row_reference(const float* x, std::size_t n, float inv_scale,
                                   std::int32_t zero_point, std::int32_t qmin, std::int32_t qmax,
                                   Code* q) noexcept {
  for (std::size_t i = 0; i < n; ++i) {
    // Clamp in float first: a huge |x| would overflow the int conversion.
    // NaN (a non-finite input or scale) maps to 0: the conversion below must never see it.
    const float r = std::nearbyint(x[i] * inv_scale);
    const float c = std::isnan(r) ? 0.0f : std::clamp(r, -65536.0f, 65536.0f);
    q[i] = static_cast<Code>(std::clamp(static_cast<std::int32_t>(c) + zero_point, qmin, qmax));
  }
}

/// min and max of a row with xsimd (exact in any order).
struct MinMax {
  template <class Arch>
  void operator()(Arch, const float* x, std::size_t n, float& lo, float& hi) const noexcept {
    using B = xsimd::batch<float, Arch>;
    constexpr std::size_t w = B::size;
    if (n < w) return minmax_reference(x, n, lo, hi);
    B vlo = B::load_unaligned(x), vhi = vlo;
    std::size_t i = w;
    for (; i + w <= n; i += w) {
      const B v = B::load_unaligned(x + i);
      vlo = xsimd::min(vlo, v);
      vhi = xsimd::max(vhi, v);
    }
    alignas(64) float l[w], h[w];
    vlo.store_aligned(l);
    vhi.store_aligned(h);
    lo = l[0];
    hi = h[0];
    for (std::size_t j = 1; j < w; ++j) {
      lo = std::min(lo, l[j]);
      hi = std::max(hi, h[j]);
    }
    for (; i < n; ++i) {
      lo = std::min(lo, x[i]);
      hi = std::max(hi, x[i]);
    }
  }
};

/// q = clamp(nearbyint(x * inv_scale) + zero_point, qmin, qmax) with xsimd; same codes as
/// quantize_row_reference.
struct QuantizeRow {
  template <class Arch, class Code>
  void operator()(Arch, const float* x, std::size_t n, float inv_scale, std::int32_t zero_point,
                  std::int32_t qmin, std::int32_t qmax, Code* q) const noexcept {
    using B = xsimd::batch<float, Arch>;
    using I = xsimd::batch<std::int32_t, Arch>;
    constexpr std::size_t w = B::size;
    const B s(inv_scale), lim_lo(-65536.0f), lim_hi(65536.0f);
    const I zp(zero_point), lo(qmin), hi(qmax);
    alignas(64) std::int32_t buf[w];
    std::size_t i = 0;
    for (; i + w <= n; i += w) {
      const B r = xsimd::nearbyint(B::load_unaligned(x + i) * s);
      const I c = xsimd::batch_cast<std::int32_t>(xsimd::clip(r, lim_lo, lim_hi)) + zp;
      xsimd::clip(c, lo, hi).store_aligned(buf);
      for (std::size_t j = 0; j < w; ++j) q[i + j] = static_cast<Code>(buf[j]);
    }
    quantize_row_reference(x + i, n - i, inv_scale, zero_point, qmin, qmax, q + i);
  }
};

}  // namespace kernels

namespace detail {
template <class F, class... Args>
void run_on_default_arch(F f, Args&&... args) {
  if constexpr (simd::has_simd) f(xsimd::default_arch{}, std::forward<Args>(args)...);
}
}  // namespace detail

/// Quantizes each of `rows` rows of x ([rows, cols], row stride `ldx` floats) to u8 with its own
/// affine parameters (choose_u8_params over the row); writes codes to q ([rows, cols], stride
/// `ldq`) and each row's scale and zero point to `scales` and `zeros` (the arrays the int8 GEMM's
/// DequantF32 epilogue reads). NaN inputs give unspecified codes.
/// @param reference use the scalar reference instead of the SIMD kernel (tests)
inline void quantize_rows_u8(const float* x, std::size_t rows, std::size_t cols, std::size_t ldx,
                             std::uint8_t* q, std::size_t ldq, float* scales, std::int32_t* zeros,
                             bool reference = false) noexcept {
  for (std::size_t r = 0; r < rows; ++r) {
    const float* xr = x + r * ldx;
    float lo = 0, hi = 0;
    if (reference || !simd::has_simd)
      kernels::minmax_reference(xr, cols, lo, hi);
    else
      detail::run_on_default_arch(kernels::MinMax{}, xr, cols, lo, hi);
    const QuantParams p = choose_u8_params(lo, hi);
    scales[r] = p.scale;
    zeros[r] = p.zero_point;
    const float inv = 1.0f / p.scale;
    if (reference || !simd::has_simd)
      kernels::quantize_row_reference(xr, cols, inv, p.zero_point, 0, 255, q + r * ldq);
    else
      detail::run_on_default_arch(kernels::QuantizeRow{}, xr, cols, inv, p.zero_point,
                                  std::int32_t{0}, std::int32_t{255}, q + r * ldq);
  }
}

/// Quantizes every row to u8 with the same (static, calibrated) parameters.
inline void quantize_rows_u8(const float* x, std::size_t rows, std::size_t cols, std::size_t ldx,
                             QuantParams params, std::uint8_t* q, std::size_t ldq,
                             bool reference = false) noexcept {
  const float inv = 1.0f / params.scale;
  for (std::size_t r = 0; r < rows; ++r) {
    if (reference || !simd::has_simd)
      kernels::quantize_row_reference(x + r * ldx, cols, inv, params.zero_point, 0, 255,
                                      q + r * ldq);
    else
      detail::run_on_default_arch(kernels::QuantizeRow{}, x + r * ldx, cols, inv, params.zero_point,
                                  std::int32_t{0}, std::int32_t{255}, q + r * ldq);
  }
}

/// Quantizes each row to symmetric s8 in [-127, 127] with scale max|x_row| / 127; writes one
/// scale per row to `scales`.
inline void quantize_rows_s8(const float* x, std::size_t rows, std::size_t cols, std::size_t ldx,
                             std::int8_t* q, std::size_t ldq, float* scales,
                             bool reference = false) noexcept {
  for (std::size_t r = 0; r < rows; ++r) {
    const float* xr = x + r * ldx;
    float lo = 0, hi = 0;
    if (reference || !simd::has_simd)
      kernels::minmax_reference(xr, cols, lo, hi);
    else
      detail::run_on_default_arch(kernels::MinMax{}, xr, cols, lo, hi);
    const float scale = choose_s8_scale(std::max(-lo, hi));
    scales[r] = scale;
    const float inv = 1.0f / scale;
    if (reference || !simd::has_simd)
      kernels::quantize_row_reference(xr, cols, inv, 0, -127, 127, q + r * ldq);
    else
      detail::run_on_default_arch(kernels::QuantizeRow{}, xr, cols, inv, std::int32_t{0},
                                  std::int32_t{-127}, std::int32_t{127}, q + r * ldq);
  }
}

}  // namespace pare
