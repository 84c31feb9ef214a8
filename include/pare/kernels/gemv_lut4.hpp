// SPDX-License-Identifier: Apache-2.0
// pare — GEMV y = W x for a 4-bit lookup-table matrix (quant/lut4.hpp: NF4, FP4 or a user's 16
// levels) with f32 activations and one f32 scale per group.
//
// AVX-512: 16 code bytes widen to 16 dword indices; `vpermps` (_mm512_permutexvar_ps) looks the
// low nibbles up in the 16-float codebook held in one register (it reads only the low 4 bits of
// each index, so no mask), a shift gives the high nibbles; two FMAs with x, and one FMA per group
// applies the scale. Four rows at a time share the loads of x. Other archs decode a chunk
// through the codebook in scalar code and multiply with the arch's xsimd FMA.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "pare/core/error.hpp"
#include "pare/core/tensor.hpp"
#include "pare/quant/lut4.hpp"
#include "pare/simd/arch.hpp"
#include "pare/simd/dispatch.hpp"

#if PARE_SIMD_X86
#include <immintrin.h>
#endif

// GCC 12 reports the `__m512 __Y = __Y;` idiom inside _mm512_reduce_add_ps and
// _mm512_undefined_ps as uninitialized once inlined here (GCC bug 105593, fixed in GCC 13): a
// false positive, silenced for this header only (as in softmax.hpp).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace pare::kernels {

/// Scalar reference: y[r] = Σ_c value(r, c) x[c], accumulated in double.
void gemv_lut4_reference(const Lut4Matrix& w, const float* x, float* y) noexcept;

namespace detail {

#if PARE_SIMD_X86 && defined(__AVX512F__)
template <std::size_t Rows>
[[gnu::always_inline]] inline void gemv_lut4_rows_avx512(const Lut4Matrix& w, std::size_t r0,
                                                         const float* x, float* y) noexcept {
  const __m512 cb = _mm512_loadu_ps(w.levels().data());
  const std::size_t cols = w.cols(), group = w.group(), bytes = cols / 2, groups = cols / group;
  const std::uint8_t* q = w.codes() + r0 * bytes;
  const float* s = w.scales() + r0 * groups;
  __m512 acc[Rows];
  for (auto& a : acc) a = _mm512_setzero_ps();
  for (std::size_t g = 0; g < groups; ++g) {
    __m512 part[Rows];
    for (auto& p : part) p = _mm512_setzero_ps();
    for (std::size_t c = g * group; c < (g + 1) * group; c += lut4_chunk) {
      const __m512 xl = _mm512_loadu_ps(x + c), xh = _mm512_loadu_ps(x + c + 16);
      for (std::size_t r = 0; r < Rows; ++r) {
        const __m512i idx = _mm512_cvtepu8_epi32(
            _mm_loadu_si128(reinterpret_cast<const __m128i*>(q + r * bytes + c / 2)));
        part[r] = _mm512_fmadd_ps(_mm512_permutexvar_ps(idx, cb), xl, part[r]);
        part[r] =
            _mm512_fmadd_ps(_mm512_permutexvar_ps(_mm512_srli_epi32(idx, 4), cb), xh, part[r]);
      }
    }
    for (std::size_t r = 0; r < Rows; ++r)
      acc[r] = _mm512_fmadd_ps(part[r], _mm512_set1_ps(s[r * groups + g]), acc[r]);
  }
  for (std::size_t r = 0; r < Rows; ++r) y[r] = _mm512_reduce_add_ps(acc[r]);
}
#endif

#if PARE_SIMD_X86 && defined(__AVX2__) && defined(__FMA__)
/// 8 codes (bits 0-3 of each lane; higher bits ignored) looked up in a 16-float table held in two
/// registers: `vpermps` reads the low 3 bits, bit 3 shifted into the sign picks the upper half.
template <class Arch>
[[gnu::always_inline]] inline __m256 lut4_lookup8(__m256i c, __m256 lo, __m256 hi) noexcept {
  return _mm256_blendv_ps(_mm256_permutevar8x32_ps(lo, c), _mm256_permutevar8x32_ps(hi, c),
                          _mm256_castsi256_ps(_mm256_slli_epi32(c, 28)));
}

template <class Arch, std::size_t Rows>
inline void gemv_lut4_rows_avx2(const Lut4Matrix& w, std::size_t r0, const float* x,
                                float* y) noexcept {
  const __m256 tlo = _mm256_loadu_ps(w.levels().data()),
               thi = _mm256_loadu_ps(w.levels().data() + 8);
  const std::size_t cols = w.cols(), group = w.group(), bytes = cols / 2, groups = cols / group;
  const std::uint8_t* q = w.codes() + r0 * bytes;
  const float* s = w.scales() + r0 * groups;
  __m256 acc[Rows];
  for (auto& a : acc) a = _mm256_setzero_ps();
  for (std::size_t g = 0; g < groups; ++g) {
    __m256 part[Rows];
    for (auto& p : part) p = _mm256_setzero_ps();
    for (std::size_t c = g * group; c < (g + 1) * group; c += lut4_chunk) {
#pragma GCC unroll 2
      for (std::size_t j = 0; j < 16; j += 8) {
        const __m256 xl = _mm256_loadu_ps(x + c + j), xh = _mm256_loadu_ps(x + c + 16 + j);
#pragma GCC unroll 4
        for (std::size_t r = 0; r < Rows; ++r) {
          const __m256i idx = _mm256_cvtepu8_epi32(
              _mm_loadl_epi64(reinterpret_cast<const __m128i*>(q + r * bytes + c / 2 + j)));
          part[r] = _mm256_fmadd_ps(lut4_lookup8<Arch>(idx, tlo, thi), xl, part[r]);
          part[r] =
              _mm256_fmadd_ps(lut4_lookup8<Arch>(_mm256_srli_epi32(idx, 4), tlo, thi), xh, part[r]);
        }
      }
    }
    for (std::size_t r = 0; r < Rows; ++r)
      acc[r] = _mm256_fmadd_ps(part[r], _mm256_set1_ps(s[r * groups + g]), acc[r]);
  }
  for (std::size_t r = 0; r < Rows; ++r) {
    const __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(acc[r]), _mm256_extractf128_ps(acc[r], 1));
    const __m128 s2 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
    y[r] = _mm_cvtss_f32(_mm_add_ss(s2, _mm_shuffle_ps(s2, s2, 1)));
  }
}
#endif

}  // namespace detail

/// Rows [r0, r1) of y = W x for a Lut4Matrix, every arch (the dispatched kernel,
/// simd/dispatch.hpp): AVX-512 with `vpermps` lookups (16 codes each), 4 rows at a time; AVX2 with
/// two `vpermps` and a blend (8 codes), 2 rows at a time (4 spill the accumulators: 3x slower);
/// else a scalar decode and the arch's FMA. Each row's result depends on the row only (any split of
/// the rows gives the same bits) and is within about gamma_cols · Σ_c |w_rc x_c| of exact (f32
/// group sums, scaled once per group).
/// @pre y does not overlap x; r0 <= r1 <= w.rows().
struct GemvLut4Rows {
  template <class Arch>
  void operator()(Arch, const Lut4Matrix& w, const float* x, float* y, std::size_t r0,
                  std::size_t r1) const noexcept;
};

template <class Arch>
void GemvLut4Rows::operator()(Arch, const Lut4Matrix& w, const float* x, float* y, std::size_t r0,
                              std::size_t r1) const noexcept {
  std::size_t r = r0;
#if PARE_SIMD_X86 && defined(__AVX512F__)
  if constexpr (std::is_base_of_v<xsimd::avx512f, Arch>) {
    for (; r + 4 <= r1; r += 4) detail::gemv_lut4_rows_avx512<4>(w, r, x, y + r);
    for (; r < r1; ++r) detail::gemv_lut4_rows_avx512<1>(w, r, x, y + r);
    return;
  }
#endif
#if PARE_SIMD_X86 && defined(__AVX2__) && defined(__FMA__)
  if constexpr (std::is_same_v<Arch, xsimd::fma3<xsimd::avx2>>) {
    for (; r + 2 <= r1; r += 2) detail::gemv_lut4_rows_avx2<Arch, 2>(w, r, x, y + r);
    for (; r < r1; ++r) detail::gemv_lut4_rows_avx2<Arch, 1>(w, r, x, y + r);
    return;
  }
#endif
  const std::size_t cols = w.cols(), group = w.group();
  const Lut4Codebook& cb = w.levels();
  if constexpr (!std::is_same_v<Arch, xsimd::unavailable>) {
    using B = xsimd::batch<float, Arch>;
    alignas(64) float wf[lut4_chunk];
    static_assert(lut4_chunk % B::size == 0, "a chunk must be whole batches");
    for (; r < r1; ++r) {
      const std::uint8_t* q = w.codes() + r * (cols / 2);
      B acc(0.0f);
      for (std::size_t g0 = 0; g0 < cols; g0 += group) {
        B part(0.0f);
        for (std::size_t c = g0; c < g0 + group; c += lut4_chunk) {
          for (std::size_t i = 0; i < 16; ++i) {
            wf[i] = cb[q[c / 2 + i] & 0xFu];
            wf[16 + i] = cb[q[c / 2 + i] >> 4];
          }
          for (std::size_t i = 0; i < lut4_chunk; i += B::size)
            part = simd::fma(B::load_aligned(wf + i), B::load_unaligned(x + c + i), part);
        }
        acc = simd::fma(part, B(w.scale(r, g0 / group)), acc);
      }
      y[r] = xsimd::hadd(acc);
    }
  } else {
    for (; r < r1; ++r) {
      const std::uint8_t* q = w.codes() + r * (cols / 2);
      float acc = 0;
      for (std::size_t g0 = 0; g0 < cols; g0 += group) {
        float part = 0;
        for (std::size_t c = g0; c < g0 + group; c += lut4_chunk)
          for (std::size_t i = 0; i < 16; ++i)
            part += cb[q[c / 2 + i] & 0xFu] * x[c + i] + cb[q[c / 2 + i] >> 4] * x[c + 16 + i];
        acc += part * w.scale(r, g0 / group);
      }
      y[r] = acc;
    }
  }
}
PARE_DISPATCHED_KERNEL(void, GemvLut4Rows::operator(),
                       (const Lut4Matrix&, const float*, float*, std::size_t, std::size_t),
                       const noexcept)

/// GemvLut4Rows over all rows on one thread, for a given arch (tests, benchmarks).
struct GemvLut4 {
  template <class Arch>
  void operator()(Arch arch, const Lut4Matrix& w, const float* x, float* y) const noexcept {
    GemvLut4Rows{}(arch, w, x, y, 0, w.rows());
  }
};

/// y = W x on the best path the CPU runs (simd::dispatch), rows split over pare's threads
/// (bit-identical for any count).
/// @pre y does not overlap x.
void gemv_lut4(const Lut4Matrix& w, const float* x, float* y);

}  // namespace pare::kernels

namespace pare {

/// y = W x for a 4-bit lookup-table matrix (NF4, FP4, a user's codebook). Strided x or y go
/// through a contiguous copy. Throws ShapeError when the shapes disagree.
/// ```
/// auto q = pare::pack_nf4(w.view(), 64);
/// pare::gemv(q, x.view(), y.view());
/// ```
void gemv(const Lut4Matrix& w, TensorView<const float, 1> x, TensorView<float, 1> y);

}  // namespace pare

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

#ifndef PARE_COMPILED_LIB
#include "pare/kernels/gemv_lut4-inl.hpp"
#endif
