// SPDX-License-Identifier: Apache-2.0
// pare — the register-tile sweep that pare's packed products share (PackedGemmB, PackedConv2d),
// the activations they fuse into it, and the direct depthwise kernels: the dispatched SIMD
// kernels of the convolution (simd/dispatch.hpp). The loops around them — blocking, packing,
// threads — are plain C++ and stay in the callers.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "pare/kernels/gemm.hpp"
#include "pare/simd/arch.hpp"
#include "pare/simd/dispatch.hpp"

#if defined(__GNUC__) && !defined(__clang__)
// xsimd's exp/erf inline GCC 12's false -Wmaybe-uninitialized (see simd/arch.hpp).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace pare {

/// What a fused kernel applies to its result before storing it.
enum class Activation : std::uint8_t {
  none,
  relu,          ///< max(x, 0)
  clip,          ///< min(max(x, lo), hi) (ReLU6 is clip with 0, 6)
  hard_sigmoid,  ///< max(0, min(1, alpha·x + beta))
  hard_swish,    ///< x · max(0, min(1, x / 6 + 1 / 2))
  sigmoid,       ///< 1 / (1 + e^-x)
  silu,          ///< x · sigmoid(x)
  gelu,          ///< x · Φ(x) = x / 2 · (1 + erf(x / √2))
};

/// An activation with its parameters (lo/hi for clip, alpha/beta for hard_sigmoid).
struct Epilogue {
  Activation kind = Activation::none;
  float lo = 0.0f, hi = 0.0f;
  float alpha = 0.2f, beta = 0.5f;
};

namespace detail {

template <class B>
inline B apply_activation(const Epilogue& e, B r) noexcept {
  switch (e.kind) {
    case Activation::none:
      return r;
    case Activation::relu:
      return xsimd::max(r, B(0.0f));
    case Activation::clip:
      return xsimd::min(xsimd::max(r, B(e.lo)), B(e.hi));
    case Activation::hard_sigmoid:
      return xsimd::max(B(0.0f), xsimd::min(B(1.0f), simd::fma(B(e.alpha), r, B(e.beta))));
    case Activation::hard_swish:
      return r * xsimd::max(B(0.0f), xsimd::min(B(1.0f), r / B(6.0f) + B(0.5f)));
    case Activation::sigmoid:
      return B(1.0f) / (B(1.0f) + xsimd::exp(-r));
    case Activation::silu:
      return r / (B(1.0f) + xsimd::exp(-r));
    case Activation::gelu:
      return B(0.5f) * r * (B(1.0f) + xsimd::erf(r * B(0.70710678118654752f)));
  }
  return r;
}

}  // namespace detail

namespace kernels {

/// The register tile of the packed products: 6 rows × 2 registers.
inline constexpr std::size_t packed_tile_mr = 6, packed_tile_nv = 2;

/// Columns of a packed B panel for Arch (2 registers' worth: 32 floats on AVX-512, 16 on AVX2).
template <class Arch>
inline constexpr std::size_t packed_tile_nr = packed_tile_nv * simd::lanes<Arch, float>;

/// C[0:mc, 0:nc] = alpha·A·B + beta·C, register tile by register tile, for A packed as
/// kernels::detail::pack_a<6> writes it (mc rows, depth kc) and B as pack_b<packed_tile_nr<Arch>>
/// does (nc columns); then, when `bias` or `act` is given, act(value + bias[row]) (bias indexed
/// from C's first row; a null act is the identity) before the tile is stored.
struct PackedTiles {
  template <class Arch>
  void operator()(Arch, std::size_t mc, std::size_t nc, std::size_t kc, const float* pa,
                  const float* pb, float alpha, float beta, float* c, std::ptrdiff_t ldc,
                  const float* bias, const Epilogue* act) const noexcept;
};

/// acc[t] = bias + Σ_k w[k]·src[offsets[k] + t] for t < span: the depthwise convolution's inner
/// loop, four registers of acc kept across all taps instead of a pass over acc per tap.
struct DepthwisePlane {
  template <class Arch>
  void operator()(Arch, const float* src, const std::size_t* offsets, const float* w,
                  std::size_t taps, float bias, float* acc, std::size_t span) const noexcept;
};

/// dst[i] = act(a[i] + r[i]) for i < n (r may be nullptr).
struct StoreActivated {
  template <class Arch>
  void operator()(Arch, const Epilogue& e, const float* a, const float* r, float* dst,
                  std::size_t n) const noexcept;
};

/// The columns of an input row at padded positions c + pad: even positions to e[(c + pad) / 2],
/// odd ones to o[(c + pad) / 2] (a stride-2 convolution's two column phases).
struct Deinterleave2 {
  template <class Arch>
  void operator()(Arch, const float* src, std::size_t n, std::size_t pad, float* e,
                  float* o) const noexcept;
};

namespace detail {
// act(r + bias[i]) on a register of row i.
template <bool HasBias>
struct TileActivation {
  const float* bias;
  const Epilogue* e;
  template <class B>
  B operator()(B r, std::size_t i) const noexcept {
    if constexpr (HasBias) r += B(bias[i]);
    return e ? pare::detail::apply_activation(*e, r) : r;
  }
};
}  // namespace detail

template <class Arch>
void PackedTiles::operator()(Arch, std::size_t mc, std::size_t nc, std::size_t kc, const float* pa,
                             const float* pb, float alpha, float beta, float* c, std::ptrdiff_t ldc,
                             const float* bias, const Epilogue* act) const noexcept {
  constexpr std::size_t MR = packed_tile_mr, NV = packed_tile_nv, NR = packed_tile_nr<Arch>;
  for (std::size_t jr = 0; jr < nc; jr += NR)
    for (std::size_t ir = 0; ir < mc; ir += MR) {
      float* ct = c + static_cast<std::ptrdiff_t>(ir) * ldc + static_cast<std::ptrdiff_t>(jr);
      const std::size_t mr = std::min(MR, mc - ir), nr = std::min(NR, nc - jr);
      const float* a = pa + ir * kc;
      const float* b = pb + jr * kc;
      if (bias)
        detail::micro_kernel<MR, NV, Arch>(kc, a, b, alpha, beta, ct, ldc, mr, nr,
                                           detail::TileActivation<true>{bias + ir, act});
      else if (act)
        detail::micro_kernel<MR, NV, Arch>(kc, a, b, alpha, beta, ct, ldc, mr, nr,
                                           detail::TileActivation<false>{nullptr, act});
      else
        detail::micro_kernel<MR, NV, Arch>(kc, a, b, alpha, beta, ct, ldc, mr, nr);
    }
}
PARE_DISPATCHED_KERNEL(void, PackedTiles::operator(),
                       (std::size_t, std::size_t, std::size_t, const float*, const float*, float,
                        float, float*, std::ptrdiff_t, const float*, const Epilogue*),
                       const noexcept)

template <class Arch>
void DepthwisePlane::operator()(Arch, const float* src, const std::size_t* offsets, const float* w,
                                std::size_t taps, float bias, float* acc,
                                std::size_t span) const noexcept {
  using B = xsimd::batch<float, Arch>;
  constexpr std::size_t W = B::size;
  std::size_t t = 0;
  for (; t + 4 * W <= span; t += 4 * W) {
    B a0(bias), a1(bias), a2(bias), a3(bias);
    for (std::size_t k = 0; k < taps; ++k) {
      const float* s = src + offsets[k] + t;
      const B wk(w[k]);
      a0 = simd::fma(wk, B::load_unaligned(s), a0);
      a1 = simd::fma(wk, B::load_unaligned(s + W), a1);
      a2 = simd::fma(wk, B::load_unaligned(s + 2 * W), a2);
      a3 = simd::fma(wk, B::load_unaligned(s + 3 * W), a3);
    }
    a0.store_unaligned(acc + t);
    a1.store_unaligned(acc + t + W);
    a2.store_unaligned(acc + t + 2 * W);
    a3.store_unaligned(acc + t + 3 * W);
  }
  for (; t + W <= span; t += W) {
    B a0(bias);
    for (std::size_t k = 0; k < taps; ++k)
      a0 = simd::fma(B(w[k]), B::load_unaligned(src + offsets[k] + t), a0);
    a0.store_unaligned(acc + t);
  }
  for (; t < span; ++t) {
    float a = bias;
    for (std::size_t k = 0; k < taps; ++k) a += w[k] * src[offsets[k] + t];
    acc[t] = a;
  }
}
PARE_DISPATCHED_KERNEL(void, DepthwisePlane::operator(),
                       (const float*, const std::size_t*, const float*, std::size_t, float, float*,
                        std::size_t),
                       const noexcept)

template <class Arch>
void StoreActivated::operator()(Arch, const Epilogue& e, const float* a, const float* r, float* dst,
                                std::size_t n) const noexcept {
  using B = xsimd::batch<float, Arch>;
  constexpr std::size_t W = B::size;
  std::size_t i = 0;
  for (; i + W <= n; i += W) {
    B v = B::load_unaligned(a + i);
    if (r) v += B::load_unaligned(r + i);
    pare::detail::apply_activation(e, v).store_unaligned(dst + i);
  }
  if (i == n) return;
  // The tail through one register: the same arithmetic as the body, so an element's value does
  // not depend on where it falls.
  alignas(64) float buf[W] = {};
  std::copy_n(a + i, n - i, buf);
  B v = B::load_aligned(buf);
  if (r) {
    alignas(64) float rb[W] = {};
    std::copy_n(r + i, n - i, rb);
    v += B::load_aligned(rb);
  }
  pare::detail::apply_activation(e, v).store_aligned(buf);
  std::copy_n(buf, n - i, dst + i);
}
PARE_DISPATCHED_KERNEL(void, StoreActivated::operator(),
                       (const Epilogue&, const float*, const float*, float*, std::size_t),
                       const noexcept)

template <class Arch>
void Deinterleave2::operator()(Arch, const float* src, std::size_t n, std::size_t pad, float* e,
                               float* o) const noexcept {
  float* first = pad % 2 == 0 ? e : o;   // where column 0 goes
  float* second = pad % 2 == 0 ? o : e;  // where column 1 goes
  first += pad / 2;
  second += (pad + 1) / 2;
  std::size_t c = 0;
#if defined(__AVX512F__)
  if constexpr (std::is_same_v<Arch, xsimd::avx512bw>) {
    const __m512i even =
        _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd =
        _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    for (; c + 32 <= n; c += 32) {
      const __m512 lo = _mm512_loadu_ps(src + c), hi = _mm512_loadu_ps(src + c + 16);
      _mm512_storeu_ps(first + c / 2, _mm512_permutex2var_ps(lo, even, hi));
      _mm512_storeu_ps(second + c / 2, _mm512_permutex2var_ps(lo, odd, hi));
    }
  }
#endif
  for (; c + 1 < n; c += 2) {
    first[c / 2] = src[c];
    second[c / 2] = src[c + 1];
  }
  if (c < n) first[c / 2] = src[c];
}
PARE_DISPATCHED_KERNEL(void, Deinterleave2::operator(),
                       (const float*, std::size_t, std::size_t, float*, float*), const noexcept)

}  // namespace kernels

}  // namespace pare

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
