// SPDX-License-Identifier: Apache-2.0
// pare — the kernels behind quant/dynamic.hpp: min/max of a row and its rounding to integer codes,
// as scalar references and as xsimd function objects templated on the arch (kernels/ style).
//
// quant/dynamic.hpp declares the entry points (quantize_rows_u8, quantize_rows_s8) without these,
// so that a translation unit that only quantizes activations does not parse xsimd when it links
// pare::compiled; include this header to call a kernel directly (tests, benchmarks, a user's own
// per-row loop).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <utility>

#include "pare/simd/arch.hpp"
#include "pare/simd/dispatch.hpp"

namespace pare {

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
  void operator()(Arch, const float* x, std::size_t n, float& lo, float& hi) const noexcept;
};

/// q = clamp(nearbyint(x * inv_scale) + zero_point, qmin, qmax) with xsimd; same codes as
/// quantize_row_reference. Code is std::uint8_t or std::int8_t.
struct QuantizeRow {
  template <class Arch, class Code>
  void operator()(Arch, const float* x, std::size_t n, float inv_scale, std::int32_t zero_point,
                  std::int32_t qmin, std::int32_t qmax, Code* q) const noexcept;
};

// Defined out of the classes so that pare_isa's objects can hold the AVX2/AVX-512 instantiations
// (simd/dispatch.hpp). The scalar tails are written out here rather than calling the references:
// an out-of-line copy of those compiled for AVX-512 could stand in for the baseline one.
template <class Arch>
void MinMax::operator()(Arch, const float* x, std::size_t n, float& lo, float& hi) const noexcept {
  using B = xsimd::batch<float, Arch>;
  constexpr std::size_t w = B::size;
  std::size_t i = 0;
  if (n < w) {
    lo = n ? x[0] : 0.0f;
    hi = lo;
    i = n ? 1 : 0;
  } else {
    B vlo = B::load_unaligned(x), vhi = vlo;
    for (i = w; i + w <= n; i += w) {
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
  }
  for (; i < n; ++i) {
    lo = std::min(lo, x[i]);
    hi = std::max(hi, x[i]);
  }
}
PARE_DISPATCHED_KERNEL(void, MinMax::operator(), (const float*, std::size_t, float&, float&),
                       const noexcept)

template <class Arch, class Code>
void QuantizeRow::operator()(Arch, const float* x, std::size_t n, float inv_scale,
                             std::int32_t zero_point, std::int32_t qmin, std::int32_t qmax,
                             Code* q) const noexcept {
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
  for (; i < n; ++i) {  // as quantize_row_reference
    const float r = std::nearbyint(x[i] * inv_scale);
    const float c = std::isnan(r) ? 0.0f : std::clamp(r, -65536.0f, 65536.0f);
    q[i] = static_cast<Code>(std::clamp(static_cast<std::int32_t>(c) + zero_point, qmin, qmax));
  }
}
PARE_DISPATCHED_KERNEL(void, QuantizeRow::operator(),
                       (const float*, std::size_t, float, std::int32_t, std::int32_t, std::int32_t,
                        std::uint8_t*),
                       const noexcept)
PARE_DISPATCHED_KERNEL(void, QuantizeRow::operator(),
                       (const float*, std::size_t, float, std::int32_t, std::int32_t, std::int32_t,
                        std::int8_t*),
                       const noexcept)

}  // namespace kernels

}  // namespace pare
