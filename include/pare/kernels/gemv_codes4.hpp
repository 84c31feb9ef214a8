// SPDX-License-Identifier: Apache-2.0
// pare — the generic 4-bit GEMV y = W x for a Codes4Matrix<F> of any Decode4Format F: the
// format's decode is inlined into one SIMD kernel (no call per element, no virtual dispatch).
//
// Per 32-weight chunk and row, 16 code bytes widen to 32-bit lanes (AVX-512: 16 at a time with
// `vpmovzxbd`; AVX2: 8; other archs: a scalar widening into a batch), the low and high nibbles
// become two batches of codes, and F's decode turns each into floats:
//   - F has a SIMD decode, `template <class Arch> batch<float, Arch> decode(batch<int32_t, Arch>)`
//     (Int<4>/UInt<4> have one: a conversion): it is called, inlined;
//   - else F's scalar decode is tabulated once per call (16 floats) and codes are looked up in
//     registers: AVX-512 one `vpermps`, AVX2 two `vpermps` and a blend on bit 3, other archs a
//     scalar gather.
// Two FMAs with x per batch, one FMA per group applies the scale; offsets (zero points) add
// offset[r, g] * Σ x over the group, from group sums of x taken once per call. Four rows at a
// time share the loads of x.
#pragma once

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "pare/core/error.hpp"
#include "pare/core/tensor.hpp"
#include "pare/quant/codes4.hpp"
#include "pare/simd/arch.hpp"

#if PARE_SIMD_X86
#include <immintrin.h>
#endif

// GCC 12 reports the `__m512 __Y = __Y;` idiom of _mm512_undefined_ps as uninitialized once
// inlined here (GCC bug 105593, fixed in GCC 13); silenced for this header only (as in
// softmax.hpp).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace pare::kernels {

/// Scalar reference: y[r] = Σ_c value(r, c) x[c], accumulated in double.
template <class F>
inline void gemv_codes4_reference(const Codes4Matrix<F>& w, const float* x, float* y) noexcept {
  for (std::size_t r = 0; r < w.rows(); ++r) {
    double s = 0;
    for (std::size_t c = 0; c < w.cols(); ++c) s += static_cast<double>(w.value(r, c)) * x[c];
    y[r] = static_cast<float>(s);
  }
}

/// True when F gives a SIMD decode for Arch (then the kernel inlines it instead of a table).
template <class F, class Arch>
concept SimdDecode4 = requires(xsimd::batch<std::int32_t, Arch> b) {
  { F::decode(b) } -> std::same_as<xsimd::batch<float, Arch>>;
};

namespace detail {

/// Decodes code batches of format F on Arch: F's SIMD decode, or a register-held table of
/// decode(0..15).
template <class F, class Arch, bool Simd = SimdDecode4<F, Arch>>
struct Decoder4 {
  using B = xsimd::batch<float, Arch>;
  using I = xsimd::batch<std::int32_t, Arch>;
  explicit Decoder4(const std::array<float, 16>&) noexcept {}
  B operator()(I codes) const noexcept { return F::decode(codes); }
};

template <class F, class Arch>
struct Decoder4<F, Arch, false> {
  using B = xsimd::batch<float, Arch>;
  using I = xsimd::batch<std::int32_t, Arch>;
  alignas(64) std::array<float, 16> table;
#if PARE_SIMD_X86 && defined(__AVX512F__)
  __m512 t16;
#endif
#if PARE_SIMD_X86 && defined(__AVX2__)
  __m256 t8lo, t8hi;
#endif
  explicit Decoder4(const std::array<float, 16>& levels) noexcept : table(levels) {
#if PARE_SIMD_X86 && defined(__AVX512F__)
    t16 = _mm512_load_ps(table.data());
#endif
#if PARE_SIMD_X86 && defined(__AVX2__)
    t8lo = _mm256_load_ps(table.data());
    t8hi = _mm256_load_ps(table.data() + 8);
#endif
  }
  B operator()(I codes) const noexcept {
#if PARE_SIMD_X86 && defined(__AVX512F__)
    if constexpr (std::is_same_v<Arch, xsimd::avx512bw>)
      return B(_mm512_permutexvar_ps(static_cast<__m512i>(codes), t16));
#endif
#if PARE_SIMD_X86 && defined(__AVX2__)
    if constexpr (std::is_same_v<Arch, xsimd::fma3<xsimd::avx2>>) {
      const __m256i c = codes;
      // vpermps reads the low 3 bits; bit 3, shifted into the sign, picks the upper table.
      return B(_mm256_blendv_ps(_mm256_permutevar8x32_ps(t8lo, c),
                                _mm256_permutevar8x32_ps(t8hi, c),
                                _mm256_castsi256_ps(_mm256_slli_epi32(c, 28))));
    }
#endif
    alignas(64) std::int32_t idx[I::size];
    alignas(64) float out[B::size];
    codes.store_aligned(idx);
    for (std::size_t i = 0; i < B::size; ++i) out[i] = table[static_cast<std::size_t>(idx[i])];
    return B::load_aligned(out);
  }
};

/// N = batch size code bytes at p, widened to 32-bit lanes.
template <class Arch>
inline xsimd::batch<std::int32_t, Arch> widen_bytes(const std::uint8_t* p) noexcept {
  using I = xsimd::batch<std::int32_t, Arch>;
#if PARE_SIMD_X86 && defined(__AVX512F__)
  if constexpr (std::is_same_v<Arch, xsimd::avx512bw>)
    return I(_mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
#endif
#if PARE_SIMD_X86 && defined(__AVX2__)
  if constexpr (std::is_same_v<Arch, xsimd::fma3<xsimd::avx2>>)
    return I(_mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))));
#endif
  alignas(64) std::int32_t v[I::size];
  for (std::size_t i = 0; i < I::size; ++i) v[i] = p[i];
  return I::load_aligned(v);
}

/// Rows [r0, r0 + Rows) without offsets: y[r] = Σ_g scale[r, g] Σ_{c in g} decode(code) x[c].
template <std::size_t Rows, class F, class Arch>
inline void gemv_codes4_rows(const Codes4Matrix<F>& w, const Decoder4<F, Arch>& dec, std::size_t r0,
                             const float* x, float* y) noexcept {
  using B = xsimd::batch<float, Arch>;
  using I = xsimd::batch<std::int32_t, Arch>;
  constexpr std::size_t N = B::size;
  static_assert(16 % N == 0, "a 16-byte code chunk must be whole batches");
  const std::size_t bytes = w.cols() / 2, group = w.group(), groups = w.groups();
  const std::uint8_t* q = w.codes() + r0 * bytes;
  const float* s = w.scales() + r0 * groups;
  const I nib(0xF);
  B acc[Rows];
  for (auto& a : acc) a = B(0.0f);
  for (std::size_t g = 0; g < groups; ++g) {
    B lo[Rows], hi[Rows];
    for (std::size_t r = 0; r < Rows; ++r) lo[r] = hi[r] = B(0.0f);
    for (std::size_t c = g * group; c < (g + 1) * group; c += codes4_chunk) {
      for (std::size_t j = 0; j < 16; j += N) {
        const B xl = B::load_unaligned(x + c + j), xh = B::load_unaligned(x + c + 16 + j);
        for (std::size_t r = 0; r < Rows; ++r) {
          const I v = widen_bytes<Arch>(q + r * bytes + c / 2 + j);
          lo[r] = xsimd::fma(dec(v & nib), xl, lo[r]);
          hi[r] = xsimd::fma(dec(v >> 4), xh, hi[r]);
        }
      }
    }
    for (std::size_t r = 0; r < Rows; ++r)
      acc[r] = xsimd::fma(lo[r] + hi[r], B(s[r * groups + g]), acc[r]);
  }
  for (std::size_t r = 0; r < Rows; ++r) y[r] = xsimd::hadd(acc[r]);
}

}  // namespace detail

/// y = W x for W a Codes4Matrix<F> (see the file comment), on `Arch`. Each result is within
/// gamma_cols * Σ_c |w_rc x_c| of exact (group sums in f32, scaled once per group).
/// @pre y does not overlap x.
struct GemvCodes4 {
  template <class Arch, class F>
  void operator()(Arch, const Codes4Matrix<F>& w, const float* x, float* y) const noexcept {
    const std::size_t rows = w.rows();
    if constexpr (std::is_same_v<Arch, xsimd::unavailable>) {
      gemv_codes4_reference(w, x, y);
      return;
    } else {
      const detail::Decoder4<F, Arch> dec(decode4_levels<F>());
      std::size_t r = 0;
      for (; r + 4 <= rows; r += 4) detail::gemv_codes4_rows<4>(w, dec, r, x, y + r);
      for (; r < rows; ++r) detail::gemv_codes4_rows<1>(w, dec, r, x, y + r);
      if (const float* off = w.offsets()) {
        // Zero points: offset[r, g] times the group's Σ x, the sums taken once for all rows.
        thread_local std::vector<float> xs;
        const std::size_t group = w.group(), groups = w.groups();
        xs.assign(groups, 0.0f);
        for (std::size_t g = 0; g < groups; ++g)
          for (std::size_t c = g * group; c < (g + 1) * group; ++c) xs[g] += x[c];
        for (std::size_t i = 0; i < rows; ++i) {
          float t = 0;
          for (std::size_t g = 0; g < groups; ++g) t += off[i * groups + g] * xs[g];
          y[i] += t;
        }
      }
    }
  }
};

}  // namespace pare::kernels

namespace pare {

/// y = W x for a Codes4Matrix W [rows, cols] of any Decode4Format, x [cols], y [rows], on
/// kernels::GemvCodes4 with the build's default arch. Strided x or y go through a copy.
/// @pre y does not overlap x. Shapes must agree (else ShapeError naming all three).
/// ```
/// auto q = pare::pack_codes4<LogScale4>(w.view(), 64);
/// pare::gemv(q, x.view(), y.view());
/// ```
template <class F>
inline void gemv(const Codes4Matrix<F>& w, TensorView<const float, 1> x, TensorView<float, 1> y) {
  PARE_CHECK(w.cols() == x.extent(0) && w.rows() == y.extent(0), ShapeError, "gemv: W [", w.rows(),
             ", ", w.cols(), "] (4-bit ", F::name, ") x ", to_string(x.extents()), " -> y ",
             to_string(y.extents()));
  const Tensor<float, 1> xc = x.is_contiguous() ? Tensor<float, 1>() : Tensor<float, 1>(x);
  const float* xp = x.is_contiguous() ? x.data() : xc.data();
  if (y.is_contiguous()) {
    kernels::GemvCodes4{}(xsimd::default_arch{}, w, xp, y.data());
    return;
  }
  Tensor<float, 1> yc({y.extent(0)});
  kernels::GemvCodes4{}(xsimd::default_arch{}, w, xp, yc.data());
  for (std::size_t r = 0; r < y.extent(0); ++r) y[r] = yc(r);
}

}  // namespace pare

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
