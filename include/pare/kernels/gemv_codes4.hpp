// SPDX-License-Identifier: Apache-2.0
// pare — the generic 4-bit GEMV y = W x for a Codes4Matrix<F> of any Decode4Format F: the
// format's decode is inlined into one SIMD kernel (no call per element, no virtual dispatch).
//
// Per 32-weight chunk and row, 16 code bytes widen to 32-bit lanes (AVX-512: 16 at a time with
// `vpmovzxbd`; AVX2: 8; other archs: a scalar widening into a batch), the low and high nibbles
// become two batches of codes, and F's decode turns each into floats:
//   - AVX-512 and AVX2: F's decode is tabulated once per call (16 floats) and codes are looked up
//     in registers (AVX-512 one `vpermps`, AVX2 two `vpermps` and a blend on bit 3): one or two
//     instructions, fewer than any decode arithmetic, so this holds for every format;
//   - other archs (SSE2, NEON): F's SIMD decode, `template <class Arch> batch<float, Arch>
//     decode(batch<int32_t, Arch>)` (Int<4>/UInt<4> have one: a conversion), inlined; a format
//     without one is looked up in the table lane by lane.
// Two FMAs with x per batch, one FMA per group applies the scale; offsets (zero points) add
// offset[r, g] * Σ x over the group, from group sums of x taken once per call. Four rows at a
// time share the loads of x.
//
// GemvCodes4Q8 is the int8-activation kernel for formats whose levels are small integers
// (Int<4>, UInt<4>, or a user format declaring `int8_levels`, as the built-in Codebook4Log's
// levels are): x rounded to int8 per group once per call, levels looked up as bytes (`vpshufb`)
// and multiplied with AVX-512 VNNI `vpdpbusd`, 64 products per instruction. pare::gemv uses it
// when it applies (docs/kernels-int4.md has the measurements).
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "pare/core/config.hpp"
#include "pare/core/error.hpp"
#include "pare/core/parallel.hpp"
#include "pare/core/tensor.hpp"
#include "pare/quant/codes4.hpp"
#include "pare/simd/arch.hpp"
#include "pare/simd/dispatch.hpp"

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

/// Archs where a 16-entry float table lookup is one or two register permutes: cheaper than any
/// decode arithmetic (a SIMD decode of two operations measured 1.2-1.7x slower than the table on
/// AVX-512, docs/kernels-int4.md), so the table is used there even when F gives a SIMD decode.
template <class Arch>
inline constexpr bool has_register_table =
#if PARE_SIMD_X86 && defined(__AVX512F__)
    std::is_same_v<Arch, xsimd::avx512bw> ||
#endif
#if PARE_SIMD_X86 && defined(__AVX2__)
    std::is_same_v<Arch, xsimd::fma3<xsimd::avx2>> ||
#endif
    false;

/// Decodes code batches of format F on Arch: a register-held table of decode(0..15) where the
/// arch has a table lookup, else F's SIMD decode inlined, else a scalar gather from the table.
template <class F, class Arch, bool Simd = SimdDecode4<F, Arch> && !has_register_table<Arch>>
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
          lo[r] = simd::fma(dec(v & nib), xl, lo[r]);
          hi[r] = simd::fma(dec(v >> 4), xh, hi[r]);
        }
      }
    }
    for (std::size_t r = 0; r < Rows; ++r)
      acc[r] = simd::fma(lo[r] + hi[r], B(s[r * groups + g]), acc[r]);
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

/// A Codes4Matrix seen without its format: what the dispatched kernel (GemvCodes4Rows) needs,
/// the decode tabulated. Borrows the matrix's arrays.
struct Codes4View {
  const std::uint8_t* codes = nullptr;
  const float* scales = nullptr;
  const float* offsets = nullptr;  ///< nullptr: no zero points
  std::size_t rows = 0, cols = 0, group = 32;
  std::array<float, 16> table{};  ///< decode(0..15)
};

/// The view of w (its format's decode tabulated once).
template <class F>
[[nodiscard]] Codes4View codes4_view(const Codes4Matrix<F>& w) noexcept {
  return {w.codes(), w.scales(), w.offsets(), w.rows(), w.cols(), w.group(), decode4_levels<F>()};
}

namespace detail {

/// The table-only stand-in format of Decoder4 for the format-free kernel.
struct Table4 {};

/// Rows [r0, r0 + Rows) of a Codes4View without offsets, as gemv_codes4_rows.
template <std::size_t Rows, class Arch>
inline void codes4_view_rows(const Codes4View& w, const Decoder4<Table4, Arch, false>& dec,
                             std::size_t r0, const float* x, float* y) noexcept {
  using B = xsimd::batch<float, Arch>;
  using I = xsimd::batch<std::int32_t, Arch>;
  constexpr std::size_t N = B::size;
  static_assert(16 % N == 0, "a 16-byte code chunk must be whole batches");
  const std::size_t bytes = w.cols / 2, group = w.group, groups = w.cols / w.group;
  const std::uint8_t* q = w.codes + r0 * bytes;
  const float* s = w.scales + r0 * groups;
  const I nib(0xF);
  B acc[Rows];
  for (auto& a : acc) a = B(0.0f);
  for (std::size_t g = 0; g < groups; ++g) {
    B lo[Rows], hi[Rows];
    for (std::size_t r = 0; r < Rows; ++r) lo[r] = hi[r] = B(0.0f);
    for (std::size_t c = g * group; c < (g + 1) * group; c += codes4_chunk) {
#pragma GCC unroll 4
      for (std::size_t j = 0; j < 16; j += N) {
        const B xl = B::load_unaligned(x + c + j), xh = B::load_unaligned(x + c + 16 + j);
#pragma GCC unroll 4
        for (std::size_t r = 0; r < Rows; ++r) {
          const I v = widen_bytes<Arch>(q + r * bytes + c / 2 + j);
          lo[r] = simd::fma(dec(v & nib), xl, lo[r]);
          hi[r] = simd::fma(dec(v >> 4), xh, hi[r]);
        }
      }
    }
    for (std::size_t r = 0; r < Rows; ++r)
      acc[r] = simd::fma(lo[r] + hi[r], B(s[r * groups + g]), acc[r]);
  }
  for (std::size_t r = 0; r < Rows; ++r) y[r] = xsimd::hadd(acc[r]);
}

}  // namespace detail

/// Rows [r0, r1) of y = W x for a Codes4View, f32 x, on any arch (the dispatched kernel of
/// pare::gemv for Codes4Matrix, simd/dispatch.hpp): codes decoded through the tabulated levels
/// (AVX-512 one `vpermps`, AVX2 two and a blend, else lane by lane), as GemvCodes4; 4 rows at a
/// time on AVX-512, 2 on AVX2 and below (4 spill the accumulators there). `xsum`: each group's
/// sum of x, needed when w has offsets (else unused). Each row's result depends on the row only
/// (any split of the rows gives the same bits); error bound: GemvCodes4's.
/// @pre y does not overlap x; r0 <= r1 <= w.rows.
struct GemvCodes4Rows {
  template <class Arch>
  void operator()(Arch, const Codes4View& w, const float* xsum, const float* x, float* y,
                  std::size_t r0, std::size_t r1) const noexcept;
};

template <class Arch>
void GemvCodes4Rows::operator()(Arch, const Codes4View& w, const float* xsum, const float* x,
                                float* y, std::size_t r0, std::size_t r1) const noexcept {
  if constexpr (std::is_same_v<Arch, xsimd::unavailable>) {
    for (std::size_t r = r0; r < r1; ++r) {
      const std::size_t groups = w.cols / w.group;
      double s = 0;
      for (std::size_t c = 0; c < w.cols; ++c) {
        const std::uint8_t b = w.codes[r * (w.cols / 2) + c / 32 * 16 + c % 16];
        const unsigned code = c % 32 < 16 ? b & 0xFu : b >> 4;
        double v = static_cast<double>(w.table[code]) * w.scales[r * groups + c / w.group];
        if (w.offsets != nullptr) v += w.offsets[r * groups + c / w.group];
        s += v * x[c];
      }
      y[r] = static_cast<float>(s);
    }
  } else {
    const detail::Decoder4<detail::Table4, Arch, false> dec(w.table);
    constexpr std::size_t R = simd::tier_of<Arch>() == simd::Tier::avx512 ? 4 : 2;
    std::size_t r = r0;
    for (; r + R <= r1; r += R) detail::codes4_view_rows<R>(w, dec, r, x, y + r);
    for (; r < r1; ++r) detail::codes4_view_rows<1>(w, dec, r, x, y + r);
    if (w.offsets != nullptr) {
      const std::size_t groups = w.cols / w.group;
      for (std::size_t i = r0; i < r1; ++i) {
        float t = 0;
        for (std::size_t g = 0; g < groups; ++g) t += w.offsets[i * groups + g] * xsum[g];
        y[i] += t;
      }
    }
  }
}
PARE_DISPATCHED_KERNEL(void, GemvCodes4Rows::operator(),
                       (const Codes4View&, const float*, const float*, float*, std::size_t,
                        std::size_t),
                       const noexcept)

/// y = W x, f32 x, on the best path the CPU runs: GemvCodes4Rows through simd::dispatch with the
/// rows split over pare's threads (bit-identical for any count); on a CPU below AVX2 (or without
/// SIMD) GemvCodes4 on the build's arch, which inlines F's SIMD decode where it has one.
/// @pre y does not overlap x.
template <class F>
void gemv_codes4(const Codes4Matrix<F>& w, const float* x, float* y) {
  if constexpr (simd::has_simd) {
    if (simd::active_tier() >= simd::Tier::avx2) {
      const Codes4View v = codes4_view(w);
      thread_local std::vector<float> xs;
      const float* xsum = nullptr;
      if (v.offsets != nullptr) {
        xs.assign(v.cols / v.group, 0.0f);
        for (std::size_t g = 0; g < xs.size(); ++g)
          for (std::size_t c = g * v.group; c < (g + 1) * v.group; ++c) xs[g] += x[c];
        xsum = xs.data();
      }
      // Pieces of at least ~64 KiB of codes (~5 us).
      const std::size_t grain = std::max<std::size_t>(1, (std::size_t{1} << 16) / (v.cols / 2 + 1));
      parallel_for(0, v.rows, grain, [&](std::size_t lo, std::size_t hi) {
        simd::dispatch([&](auto arch) { GemvCodes4Rows{}(arch, v, xsum, x, y, lo, hi); });
      });
      return;
    }
  }
  GemvCodes4{}(xsimd::default_arch{}, w, x, y);
}

/// True when F declares its levels to be integers in [-127, 127] (`static constexpr bool
/// int8_levels = true;`, the scale carrying the units): GemvCodes4Q8 may then multiply them as
/// int8 with x rounded to int8 per group, as the built-in codebook kernel (GemvInt4Q8) does.
template <class F>
inline constexpr bool has_int8_levels = [] {
  if constexpr (requires { F::int8_levels; })
    return static_cast<bool>(F::int8_levels);
  else
    return false;
}();

/// x rounded to int8 per group for GemvCodes4Q8, in the code order of 128-weight blocks (byte p
/// of a block: weight 32 (p / 16) + p % 16 in the low half, + 16 in the high half), with each
/// group's scale max|x| / 127 and bias -128 * scale * Σ codes (undoing the +128 that makes levels
/// unsigned for `vpdpbusd`), and each group's Σ x for offsets.
struct Codes4Activations {
  std::vector<std::int8_t> lo, hi;
  std::vector<float> scale, bias, sum;

  /// Quantizes x[0, cols) in groups of `group` (cols a multiple of 128 and of group).
  void quantize(const float* x, std::size_t cols, std::size_t group);
};

namespace detail {

/// The int8 levels of F (checked: integers in [-127, 127]), or nothing.
template <class F>
inline bool int8_levels_of(std::array<std::int8_t, 16>& out) noexcept {
  const auto l = decode4_levels<F>();
  for (std::size_t i = 0; i < 16; ++i) {
    if (!(l[i] >= -127.0f && l[i] <= 127.0f) || l[i] != std::nearbyint(l[i])) return false;
    out[i] = static_cast<std::int8_t>(l[i]);
  }
  return true;
}

#if PARE_SIMD_X86 && defined(__AVX512BW__) && defined(__AVX512VNNI__) && defined(__AVX512VL__)
#define PARE_CODES4_VNNI 1
/// Rows [r0, r0 + Rows) of GemvCodes4Q8 on AVX-512 VNNI: per 128-weight block and row, one
/// 64-byte code load, two `vpshufb` to unsigned levels (level + 128), two `vpdpbusd` with x's
/// int8 codes, one FMA with the lane's weight scale x x scale.
template <std::size_t Rows, class F>
inline void gemv_codes4_q8_rows(const Codes4Matrix<F>& w, const Codes4Activations& xa,
                                __m512i table, std::size_t r0, float* y) noexcept {
  const std::size_t cols = w.cols(), group = w.group(), groups = w.groups(), blocks = cols / 128;
  const __m512i nib = _mm512_set1_epi8(0x0F);
  // Lane l of a block covers weights 32 (l / 4) + 4 (l % 4) .. + 3 (and + 16): group
  // 32 (l / 4) / group of the block's first group.
  alignas(64) std::int32_t li[16];
  for (int l = 0; l < 16; ++l) li[l] = static_cast<int>(32 * (l / 4) / group);
  const __m512i lane_group = _mm512_load_si512(li);
  const std::size_t per_block = group >= 128 ? 1 : 128 / group;
  const __mmask8 m = static_cast<__mmask8>((1u << per_block) - 1);
  const std::uint8_t* q = w.codes() + r0 * (cols / 2);
  const float* ws = w.scales() + r0 * groups;
  __m512 acc[Rows];
  for (auto& a : acc) a = _mm512_setzero_ps();
  for (std::size_t b = 0; b < blocks; ++b) {
    const std::size_t g0 = 128 * b / group;
    const __m512i xl = _mm512_loadu_si512(xa.lo.data() + 64 * b),
                  xh = _mm512_loadu_si512(xa.hi.data() + 64 * b);
    const __m512 xs = _mm512_permutexvar_ps(
        lane_group, _mm512_castps128_ps512(_mm_maskz_loadu_ps(m, xa.scale.data() + g0)));
    for (std::size_t r = 0; r < Rows; ++r) {
      const __m512i v = _mm512_loadu_si512(q + r * (cols / 2) + 64 * b);
      const __m512i wl = _mm512_shuffle_epi8(table, _mm512_and_si512(v, nib));
      const __m512i wh = _mm512_shuffle_epi8(table, _mm512_and_si512(_mm512_srli_epi16(v, 4), nib));
      const __m512i d =
          _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), wl, xl), wh, xh);
      const __m512 s = _mm512_mul_ps(
          xs, _mm512_permutexvar_ps(
                  lane_group, _mm512_castps128_ps512(_mm_maskz_loadu_ps(m, ws + r * groups + g0))));
      acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(d), s, acc[r]);
    }
  }
  for (std::size_t r = 0; r < Rows; ++r) {
    // The +128 bias of the levels, and offsets (zero points): one dot over the groups per row.
    __m512 extra = _mm512_setzero_ps();
    const float* wr = ws + r * groups;
    const float* off = w.offsets() != nullptr ? w.offsets() + (r0 + r) * groups : nullptr;
    std::size_t g = 0;
    for (; g + 16 <= groups; g += 16) {
      extra = _mm512_fmadd_ps(_mm512_loadu_ps(wr + g), _mm512_loadu_ps(xa.bias.data() + g), extra);
      if (off != nullptr)
        extra =
            _mm512_fmadd_ps(_mm512_loadu_ps(off + g), _mm512_loadu_ps(xa.sum.data() + g), extra);
    }
    float t = _mm512_reduce_add_ps(_mm512_add_ps(acc[r], extra));
    for (; g < groups; ++g) t += wr[g] * xa.bias[g] + (off != nullptr ? off[g] * xa.sum[g] : 0.0f);
    y[r] = t;
  }
}
#else
#define PARE_CODES4_VNNI 0
#endif

}  // namespace detail

/// y = W x with x rounded to int8 per group, for formats with int8 levels (has_int8_levels<F>):
/// on AVX-512 VNNI the levels are looked up as bytes and multiplied with `vpdpbusd` (64 products
/// per instruction), as the built-in GemvInt4Q8 does; cols must be a multiple of 128 and the group
/// 32, 64 or a multiple of 128. Elsewhere (other archs, other shapes, levels that are not int8)
/// it is GemvCodes4. Error: GemvCodes4's, plus Σ_c |w_rc| d_g(c) / 2 for x's rounding (d_g = the
/// largest |x| of c's group / 127).
/// @pre y does not overlap x.
struct GemvCodes4Q8 {
  template <class Arch, class F>
  void operator()(Arch arch, const Codes4Matrix<F>& w, const float* x, float* y) const noexcept {
#if PARE_CODES4_VNNI
    if constexpr (has_int8_levels<F> && std::is_same_v<Arch, xsimd::avx512bw>) {
      std::array<std::int8_t, 16> lv{};
      const std::size_t group = w.group();
      if (w.cols() % 128 == 0 && (group == 32 || group == 64 || group % 128 == 0) &&
          detail::int8_levels_of<F>(lv)) {
        thread_local Codes4Activations xa;
        xa.quantize(x, w.cols(), group);
        alignas(64) std::uint8_t t[64];
        for (std::size_t i = 0; i < 64; ++i) t[i] = static_cast<std::uint8_t>(lv[i % 16] + 128);
        const __m512i table = _mm512_load_si512(t);
        std::size_t r = 0;
        for (; r + 4 <= w.rows(); r += 4) detail::gemv_codes4_q8_rows<4>(w, xa, table, r, y + r);
        for (; r < w.rows(); ++r) detail::gemv_codes4_q8_rows<1>(w, xa, table, r, y + r);
        return;
      }
    }
#endif
    GemvCodes4{}(arch, w, x, y);
  }
};

}  // namespace pare::kernels

namespace pare {

/// y = W x for a Codes4Matrix W [rows, cols] of any Decode4Format, x [cols], y [rows]:
/// kernels::GemvCodes4Q8 (x rounded to int8 per group) when F has int8 levels (Int<4>, UInt<4>, a
/// user format declaring `int8_levels`) and the build targets AVX-512 VNNI (-march); else
/// kernels::gemv_codes4 (f32 x, exact up to f32 rounding; the best tier the CPU runs, rows over
/// pare's threads). Call kernels::GemvCodes4 directly for f32 activations always. Strided x or y go
/// through a copy.
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
  const auto run = [&](float* out) {
#if PARE_CODES4_VNNI
    // Built for a CPU with AVX-512 VNNI: the int8-activation kernel (one thread, not dispatched).
    if constexpr (kernels::has_int8_levels<F>) {
      kernels::GemvCodes4Q8{}(xsimd::default_arch{}, w, xp, out);
      return;
    }
#endif
    kernels::gemv_codes4(w, xp, out);
  };
  if (y.is_contiguous()) {
    run(y.data());
    return;
  }
  Tensor<float, 1> yc({y.extent(0)});
  run(yc.data());
  for (std::size_t r = 0; r < y.extent(0); ++r) y[r] = yc(r);
}

}  // namespace pare

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

#ifndef PARE_COMPILED_LIB
#include "pare/kernels/gemv_codes4-inl.hpp"
#endif
