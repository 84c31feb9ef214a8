// SPDX-License-Identifier: Apache-2.0
// pare — GGUF Q4_0 / Q8_0 weights multiplied as they are: y = W x (decode) and Y = X Wᵀ (prompt
// batches), with ggml's arithmetic.
//
// As llama.cpp's CPU backend does, each activation row is quantized to Q8_0 blocks (d = amax / 127
// stored as f16, q = round(x / d)), each 32-weight block's products are summed exactly in int32,
// and the block sum is scaled by d_w * d_x and accumulated in f32. Only the f32 accumulation order
// differs from ggml's vec_dot_q4_0_q8_0 / vec_dot_q8_0_q8_0 (see GgmlMatmulRows for the bound).
//
// Kernels, per group of 4 blocks (128 weights) and row:
//   AVX-512  one 64-byte load of Q4_0 codes (two of Q8_0), nibbles split with and/shift, and two
//            `vpdpbusd` (AVX512_VNNI) per activation row; the -8 of Q4_0 (-128 of the stored Q8_0
//            codes) is folded into the accumulator's start: a per-dword -8 * sum(x codes) made once
//            per activation row. Without VNNI: `vpmaddubsw` + `vpmaddwd`.
//   AVX2     the same on two ymm halves; AVX-VNNI `{vex} vpdpbusd` where the CPU has it.
//   other    a scalar loop in ggml's order.
// The int32 dword sums are converted to f32, scaled by the block's d_x (per lane) and d_w, and
// accumulated per lane; a row tile of weights is decoded once and used for up to 4 activation
// rows (prompt processing), so GEMM is bound by the dot products, not by the decode.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

#include "pare/quant/ggml_blocks.hpp"
#include "pare/simd/arch.hpp"
#include "pare/simd/dispatch.hpp"

#if PARE_SIMD_X86
#include <immintrin.h>
#endif

#if PARE_SIMD_X86 && defined(__AVX512F__) && defined(__AVX512BW__) && defined(__F16C__)
#define PARE_GGML_AVX512 1
#else
#define PARE_GGML_AVX512 0
#endif
#if PARE_SIMD_X86 && defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
#define PARE_GGML_AVX2 1
#else
#define PARE_GGML_AVX2 0
#endif

// GCC 12 reports the `__m512 __Y = __Y;` idiom inside _mm512_reduce_add_ps as uninitialized once
// inlined (GCC bug 105593, fixed in GCC 13): a false positive, silenced for this header only.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace pare::kernels {

/// Activation rows quantized to ggml's Q8_0 (quantize_row_q8_0_ref: d = amax / 127 rounded to
/// f16, q = roundf(x / d) with 1 / d as ggml computes it), laid out for the kernels: per row and
/// group of 4 blocks, 128 codes (block k's first 16 at 16 k, its last 16 at 64 + 16 k; missing
/// blocks of a row's last group zero), and per dword lane i of the group (16 of them) the
/// accumulator starts -8 and -128 times the sum of the codes at 4 i .. 4 i + 3 and 64 + 4 i ..
/// 64 + 4 i + 3, and the block's d as f32. A non-finite value makes its block's d NaN.
struct GgmlQ8Activations {
  std::size_t rows = 0;    ///< activation rows
  std::size_t groups = 0;  ///< groups of 4 blocks per row
  std::vector<std::int8_t> codes;
  std::vector<std::int32_t> start_q4, start_q8;
  std::vector<float> scale;

  /// Quantizes x [n, cols] (row-major; cols a multiple of 32).
  void quantize(const float* x, std::size_t n, std::size_t cols);
  [[nodiscard]] const std::int8_t* row_codes(std::size_t b) const noexcept {
    return codes.data() + b * groups * 128;
  }
  [[nodiscard]] const std::int32_t* row_start(std::size_t b, bool q8) const noexcept {
    return (q8 ? start_q8 : start_q4).data() + b * groups * 16;
  }
  [[nodiscard]] const float* row_scale(std::size_t b) const noexcept {
    return scale.data() + b * groups * 16;
  }
};

namespace detail {

/// f16 bits to float (exact), templated on Arch so that no arch-free copy lands in the tier
/// objects (simd/dispatch.hpp).
template <class Arch>
[[nodiscard]] inline float ggml_half(std::uint16_t h) noexcept {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  const std::uint32_t e = (h >> 10) & 0x1Fu, m = h & 0x3FFu;
  float v;
  if (e == 0)
    v = static_cast<float>(m) * 0x1p-24f;  // subnormal (or zero)
  else if (e == 31)
    v = m != 0 ? __builtin_nanf("") : __builtin_inff();
  else
    v = __builtin_bit_cast(float, ((e + 112) << 23) | (m << 13));
  return __builtin_bit_cast(float, __builtin_bit_cast(std::uint32_t, v) | sign);
}

/// Row r's last, partial group (blocks_per_row() % 4 != 0) widened to a full one: `out` (64 or
/// 128 bytes) and `out_scales` (4) laid out as group_codes() and scales() would be, the missing
/// blocks zero. A template on Arch so that no arch-free copy lands in the tier objects.
template <class Arch>
inline void ggml_partial_group(const GgmlBlockMatrix& w, std::size_t r, std::uint8_t* out,
                               std::uint16_t* out_scales) noexcept {
  const std::size_t nb = w.blocks_per_row(), g = nb / 4, n = nb - g * 4;
  const bool q4 = w.type() == GgmlBlockType::q4_0;
  std::memset(out, 0, q4 ? 64 : 128);
  for (std::size_t k = 0; k < 4; ++k) out_scales[k] = k < n ? w.scales(r)[g * 4 + k] : 0;
  const std::uint8_t* src = w.codes(r) + g * 4 * w.block_code_bytes();
  std::memcpy(out, src, 16 * n);
  if (!q4) std::memcpy(out + 64, src + 16 * n, 16 * n);
}

/// GEMV streams W once, R rows at a time: rows are short streams (a 4096-column Q4_0 row is 32
/// cache lines of codes and 4 of scales) that the hardware prefetcher learns too late, so group g
/// of the next R rows (`ahead` bytes on in the code array) and a line of their scales are
/// prefetched while group g of these rows is computed. Past the end of W is harmless: prefetches
/// never fault.
template <bool Q8, std::size_t R>
[[gnu::always_inline]] inline void ggml_prefetch_next(const GgmlBlockMatrix& w, std::size_t r0,
                                                      std::size_t g, std::size_t ahead) noexcept {
  for (std::size_t r = 0; r < R; ++r) {
    const std::uint8_t* p = w.codes(r0 + r) + g * 4 * w.block_code_bytes() + ahead;
    __builtin_prefetch(p, 0, 3);
    if constexpr (Q8) __builtin_prefetch(p + 64, 0, 3);
  }
  // The next rows' scales: R * blocks * 2 bytes, at most one line per group (R <= 8).
  const auto* s = reinterpret_cast<const std::uint8_t*>(w.scales(r0 + R));
  if (64 * g < R * w.blocks_per_row() * 2) __builtin_prefetch(s + 64 * g, 0, 3);
}

/// The scalar kernel, in ggml's order: per block sumi in int32, then acc += sumi * d_w * d_x.
template <class Arch, bool Q8>
inline void ggml_rows_portable(const GgmlBlockMatrix& w, const GgmlQ8Activations& xa, float* y,
                               std::size_t ldy, std::size_t r_begin, std::size_t r_end) noexcept {
  const std::size_t nb = w.blocks_per_row(), full = nb / 4;
  alignas(64) std::uint8_t part[128];
  std::uint16_t part_s[4];
  for (std::size_t r = r_begin; r < r_end; ++r) {
    if (full < w.groups_per_row()) ggml_partial_group<Arch>(w, r, part, part_s);
    for (std::size_t b = 0; b < xa.rows; ++b) {
      float acc = 0;
      for (std::size_t blk = 0; blk < nb; ++blk) {
        const std::size_t g = blk / 4, k = blk % 4;
        const std::uint8_t* p = g < full ? w.group_codes(r, g) : part;
        const float dw = ggml_half<Arch>(g < full ? w.scales(r)[blk] : part_s[k]);
        const std::int8_t* xc = xa.row_codes(b) + 128 * g;
        std::int32_t sumi = 0;
        for (std::size_t j = 0; j < 16; ++j) {
          std::int32_t lo, hi;
          if constexpr (Q8) {
            lo = static_cast<std::int8_t>(p[16 * k + j] ^ 0x80u);
            hi = static_cast<std::int8_t>(p[64 + 16 * k + j] ^ 0x80u);
          } else {
            lo = (p[16 * k + j] & 15) - 8;
            hi = (p[16 * k + j] >> 4) - 8;
          }
          sumi += lo * xc[16 * k + j] + hi * xc[64 + 16 * k + j];
        }
        acc += static_cast<float>(sumi) * dw * xa.row_scale(b)[16 * g + 4 * k];
      }
      y[b * ldy + r] = acc;
    }
  }
}

#if PARE_GGML_AVX512
/// vpdpbusd on zmm (AVX512_VNNI), in asm so that the x86-64-v4 object (no VNNI in its -march)
/// carries it; run only where simd::cpu_features().avx512vnni.
template <class Arch>
[[gnu::always_inline]] inline __m512i ggml_dpbusd512(__m512i acc, __m512i u, __m512i s) noexcept {
  asm("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(u), "v"(s));
  return acc;
}

/// Per dword lane: start + the 8 products of unsigned weight bytes (wl, wh) and signed x codes.
/// Without VNNI, Q8_0's stored codes (w + 128) would overflow vpmaddubsw's int16 pairs: the signed
/// weights' magnitudes multiply x with their sign instead (|w| <= 128, |x| <= 127: a pair is at
/// most 32512), and no start is needed.
template <class Arch, bool Q8, bool Vnni>
[[gnu::always_inline]] inline __m512i ggml_dot512(__m512i start, __m512i wl, __m512i xl, __m512i wh,
                                                  __m512i xh) noexcept {
  if constexpr (Vnni) {
    return ggml_dpbusd512<Arch>(ggml_dpbusd512<Arch>(start, wl, xl), wh, xh);
  } else {
    const __m512i ones = _mm512_set1_epi16(1);
    if constexpr (Q8) {
      const __m512i bias = _mm512_set1_epi8(static_cast<char>(0x80));
      const __m512i sl = _mm512_xor_si512(wl, bias), sh = _mm512_xor_si512(wh, bias);
      const __m512i zero = _mm512_setzero_si512();
      const __m512i pl = _mm512_maddubs_epi16(
          _mm512_abs_epi8(sl), _mm512_mask_sub_epi8(xl, _mm512_movepi8_mask(sl), zero, xl));
      const __m512i ph = _mm512_maddubs_epi16(
          _mm512_abs_epi8(sh), _mm512_mask_sub_epi8(xh, _mm512_movepi8_mask(sh), zero, xh));
      return _mm512_add_epi32(_mm512_madd_epi16(pl, ones), _mm512_madd_epi16(ph, ones));
    } else {
      const __m512i pl = _mm512_maddubs_epi16(wl, xl), ph = _mm512_maddubs_epi16(wh, xh);
      return _mm512_add_epi32(
          start, _mm512_add_epi32(_mm512_madd_epi16(pl, ones), _mm512_madd_epi16(ph, ones)));
    }
  }
}

/// R weight rows (from r0) times B activation rows (from b0), all columns: y[b * ldy + r].
template <class Arch, bool Q8, bool Vnni, std::size_t R, std::size_t B>
inline void ggml_tile512(const GgmlBlockMatrix& w, const GgmlQ8Activations& xa, std::size_t r0,
                         std::size_t b0, float* y, std::size_t ldy) noexcept {
  const std::size_t full = w.blocks_per_row() / 4, groups = w.groups_per_row();
  alignas(64) std::uint8_t part[R][128];
  alignas(16) std::uint16_t part_s[R][8] = {};
  if (full < groups)
    for (std::size_t r = 0; r < R; ++r) ggml_partial_group<Arch>(w, r0 + r, part[r], part_s[r]);
  __m512 acc[R][B];
  for (auto& ar : acc)
    for (auto& a : ar) a = _mm512_setzero_ps();
  const __m512i nib = _mm512_set1_epi8(15);
  const __m512i lane_block = _mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3);
  [[maybe_unused]] const std::size_t ahead = R * w.blocks_per_row() * w.block_code_bytes();
  for (std::size_t g = 0; g < groups; ++g) {
    if constexpr (B == 1) ggml_prefetch_next<Q8, R>(w, r0, g, ahead);
    __m512i wl[R], wh[R];
    __m512 ws[R];
    for (std::size_t r = 0; r < R; ++r) {
      const std::uint8_t* p = g < full ? w.group_codes(r0 + r, g) : part[r];
      const std::uint16_t* s = g < full ? w.scales(r0 + r) + 4 * g : part_s[r];
      if constexpr (Q8) {
        wl[r] = _mm512_loadu_si512(p);
        wh[r] = _mm512_loadu_si512(p + 64);
      } else {
        const __m512i v = _mm512_loadu_si512(p);
        wl[r] = _mm512_and_si512(v, nib);
        wh[r] = _mm512_and_si512(_mm512_srli_epi16(v, 4), nib);
      }
      ws[r] = _mm512_permutexvar_ps(lane_block, _mm512_zextps128_ps512(_mm_cvtph_ps(_mm_loadl_epi64(
                                                    reinterpret_cast<const __m128i*>(s)))));
    }
    for (std::size_t b = 0; b < B; ++b) {
      const std::int8_t* xc = xa.row_codes(b0 + b) + 128 * g;
      const __m512i xl = _mm512_loadu_si512(xc), xh = _mm512_loadu_si512(xc + 64);
      const __m512i start = _mm512_loadu_si512(xa.row_start(b0 + b, Q8) + 16 * g);
      const __m512 xs = _mm512_loadu_ps(xa.row_scale(b0 + b) + 16 * g);
      for (std::size_t r = 0; r < R; ++r) {
        const __m512i d = ggml_dot512<Arch, Q8, Vnni>(start, wl[r], xl, wh[r], xh);
        acc[r][b] = _mm512_fmadd_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(d), xs), ws[r], acc[r][b]);
      }
    }
  }
  for (std::size_t r = 0; r < R; ++r)
    for (std::size_t b = 0; b < B; ++b)
      y[(b0 + b) * ldy + r0 + r] = _mm512_reduce_add_ps(acc[r][b]);
}
#endif

#if PARE_GGML_AVX2
/// vpdpbusd on ymm, VEX-encoded (AVX-VNNI), in asm so that the x86-64-v3 object carries it; run
/// only where simd::cpu_features().avx_vnni.
template <class Arch>
[[gnu::always_inline]] inline __m256i ggml_dpbusd256(__m256i acc, __m256i u, __m256i s) noexcept {
  asm("%{vex%} vpdpbusd %2, %1, %0" : "+x"(acc) : "x"(u), "x"(s));
  return acc;
}

/// ggml_dot512 on ymm.
template <class Arch, bool Q8, bool Vnni>
[[gnu::always_inline]] inline __m256i ggml_dot256(__m256i start, __m256i wl, __m256i xl, __m256i wh,
                                                  __m256i xh) noexcept {
  if constexpr (Vnni) {
    return ggml_dpbusd256<Arch>(ggml_dpbusd256<Arch>(start, wl, xl), wh, xh);
  } else {
    const __m256i ones = _mm256_set1_epi16(1);
    if constexpr (Q8) {
      const __m256i bias = _mm256_set1_epi8(static_cast<char>(0x80));
      const __m256i sl = _mm256_xor_si256(wl, bias), sh = _mm256_xor_si256(wh, bias);
      const __m256i pl = _mm256_maddubs_epi16(_mm256_abs_epi8(sl), _mm256_sign_epi8(xl, sl));
      const __m256i ph = _mm256_maddubs_epi16(_mm256_abs_epi8(sh), _mm256_sign_epi8(xh, sh));
      return _mm256_add_epi32(_mm256_madd_epi16(pl, ones), _mm256_madd_epi16(ph, ones));
    } else {
      const __m256i pl = _mm256_maddubs_epi16(wl, xl), ph = _mm256_maddubs_epi16(wh, xh);
      return _mm256_add_epi32(
          start, _mm256_add_epi32(_mm256_madd_epi16(pl, ones), _mm256_madd_epi16(ph, ones)));
    }
  }
}

/// ggml_tile512 on ymm: each group in two halves of 2 blocks.
template <class Arch, bool Q8, bool Vnni, std::size_t R, std::size_t B>
inline void ggml_tile256(const GgmlBlockMatrix& w, const GgmlQ8Activations& xa, std::size_t r0,
                         std::size_t b0, float* y, std::size_t ldy) noexcept {
  const std::size_t full = w.blocks_per_row() / 4, groups = w.groups_per_row();
  alignas(64) std::uint8_t part[R][128];
  alignas(16) std::uint16_t part_s[R][8] = {};
  if (full < groups)
    for (std::size_t r = 0; r < R; ++r) ggml_partial_group<Arch>(w, r0 + r, part[r], part_s[r]);
  __m256 acc[R][B];
  for (auto& ar : acc)
    for (auto& a : ar) a = _mm256_setzero_ps();
  const __m256i nib = _mm256_set1_epi8(15);
  const __m256i lane_block[2] = {_mm256_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1),
                                 _mm256_setr_epi32(2, 2, 2, 2, 3, 3, 3, 3)};
  [[maybe_unused]] const std::size_t ahead = R * w.blocks_per_row() * w.block_code_bytes();
  for (std::size_t g = 0; g < groups; ++g) {
    if constexpr (B == 1) ggml_prefetch_next<Q8, R>(w, r0, g, ahead);
    const std::uint8_t* p[R];
    __m256 s8[R];
    for (std::size_t r = 0; r < R; ++r) {
      p[r] = g < full ? w.group_codes(r0 + r, g) : part[r];
      const std::uint16_t* s = g < full ? w.scales(r0 + r) + 4 * g : part_s[r];
      s8[r] = _mm256_zextps128_ps256(
          _mm_cvtph_ps(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(s))));
    }
#pragma GCC unroll 2
    for (std::size_t h = 0; h < 2; ++h) {
      __m256i wl[R], wh[R];
      __m256 ws[R];
      for (std::size_t r = 0; r < R; ++r) {
        if constexpr (Q8) {
          wl[r] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p[r] + 32 * h));
          wh[r] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p[r] + 64 + 32 * h));
        } else {
          const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p[r] + 32 * h));
          wl[r] = _mm256_and_si256(v, nib);
          wh[r] = _mm256_and_si256(_mm256_srli_epi16(v, 4), nib);
        }
        ws[r] = _mm256_permutevar8x32_ps(s8[r], lane_block[h]);
      }
      for (std::size_t b = 0; b < B; ++b) {
        const std::int8_t* xc = xa.row_codes(b0 + b) + 128 * g + 32 * h;
        const __m256i xl = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xc)),
                      xh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xc + 64));
        const __m256i start = _mm256_loadu_si256(
            reinterpret_cast<const __m256i*>(xa.row_start(b0 + b, Q8) + 16 * g + 8 * h));
        const __m256 xs = _mm256_loadu_ps(xa.row_scale(b0 + b) + 16 * g + 8 * h);
        for (std::size_t r = 0; r < R; ++r) {
          const __m256i d = ggml_dot256<Arch, Q8, Vnni>(start, wl[r], xl, wh[r], xh);
          acc[r][b] = _mm256_fmadd_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(d), xs), ws[r], acc[r][b]);
        }
      }
    }
  }
  for (std::size_t r = 0; r < R; ++r)
    for (std::size_t b = 0; b < B; ++b) {
      const __m128 s4 =
          _mm_add_ps(_mm256_castps256_ps128(acc[r][b]), _mm256_extractf128_ps(acc[r][b], 1));
      const __m128 s2 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
      y[(b0 + b) * ldy + r0 + r] = _mm_cvtss_f32(_mm_add_ss(s2, _mm_shuffle_ps(s2, s2, 1)));
    }
}
#endif

/// Rows [r_begin, r_end) times every activation row with the tile `Tile` (a ggml_tile* template
/// bound to R and B): weight rows RV at a time for one activation row, RG x BG tiles for several,
/// activation rows in chunks that stay in L2 while a row tile of weights stays in L1. Every y
/// element is computed by the same sequence of operations whatever the tiling.
template <std::size_t RV, std::size_t RG, std::size_t BG, class TileFn>
inline void ggml_rows_tiled(const GgmlQ8Activations& xa, std::size_t r_begin, std::size_t r_end,
                            const TileFn& tile) noexcept {
  const std::size_t n = xa.rows;
  if (n == 1) {
    std::size_t r = r_begin;
    for (; r + RV <= r_end; r += RV) tile.template operator()<RV, 1>(r, 0);
    for (; r < r_end; ++r) tile.template operator()<1, 1>(r, 0);
    return;
  }
  constexpr std::size_t chunk = 64;  // activation rows per pass over a row tile
  for (std::size_t c0 = 0; c0 < n; c0 += chunk) {
    const std::size_t c1 = std::min(n, c0 + chunk);
    std::size_t r = r_begin;
    const auto run = [&]<std::size_t R>() {
      std::size_t b = c0;
      for (; b + BG <= c1; b += BG) tile.template operator()<R, BG>(r, b);
      for (; b < c1; ++b) tile.template operator()<R, 1>(r, b);
    };
    for (; r + RG <= r_end; r += RG) run.template operator()<RG>();
    for (; r < r_end; ++r) run.template operator()<1>();
  }
}

}  // namespace detail

/// y[b * ldy + r] = sum over blocks of (int32 block dot product of W's row r and activation row b)
/// * d_w * d_x, for r in [r_begin, r_end) and every row b of xa: the dispatched kernel behind
/// gemv() and gemm(). Each element is computed by the same operations whatever the row range,
/// the tile it falls in, or the number of activation rows, so any split of rows over threads and
/// a GEMM row against a GEMV give the same bits (on one tier). Against ggml's sequential sum
/// (vec_dot_*_q8_0, exact int32 block sums), only the f32 order differs: per 4-byte lane partial
/// sums (exact integers) scaled and summed in 16 (8 on AVX2) lanes, then reduced, so
/// |y - exact| <= (blocks + 8) * 2^-23 * sum_blocks sum_j |w_j x_j| * |d_w d_x| (w_j, x_j the
/// integer codes), and ggml's own sum is within (blocks + 2) * 2^-24 of the same. `vnni`: the CPU
/// has this tier's VNNI (AVX512_VNNI, AVX-VNNI), which the kernel cannot ask itself (the tier
/// objects must not hold detection code). @pre y does not overlap xa; r_begin <= r_end <= w.rows().
struct GgmlMatmulRows {
  template <class Arch>
  void operator()(Arch, const GgmlBlockMatrix& w, const GgmlQ8Activations& xa, float* y,
                  std::size_t ldy, std::size_t r_begin, std::size_t r_end,
                  bool vnni) const noexcept;
};

template <class Arch>
void GgmlMatmulRows::operator()(Arch, const GgmlBlockMatrix& w, const GgmlQ8Activations& xa,
                                float* y, std::size_t ldy, std::size_t r_begin, std::size_t r_end,
                                [[maybe_unused]] bool vnni) const noexcept {
  const bool q8 = w.type() == GgmlBlockType::q8_0;
#if PARE_GGML_AVX512
  if constexpr (std::is_same_v<Arch, xsimd::avx512bw>) {
    const auto go = [&]<bool Q8, bool Vnni>() {
      const auto tile = [&]<std::size_t R, std::size_t B>(std::size_t r0, std::size_t b0) {
        detail::ggml_tile512<Arch, Q8, Vnni, R, B>(w, xa, r0, b0, y, ldy);
      };
      detail::ggml_rows_tiled<4, 4, 4>(xa, r_begin, r_end, tile);
    };
    if (q8)
      vnni ? go.template operator()<true, true>() : go.template operator()<true, false>();
    else
      vnni ? go.template operator()<false, true>() : go.template operator()<false, false>();
    return;
  }
#endif
#if PARE_GGML_AVX2
  if constexpr (std::is_same_v<Arch, xsimd::fma3<xsimd::avx2>>) {
    const auto go = [&]<bool Q8, bool Vnni>() {
      const auto tile = [&]<std::size_t R, std::size_t B>(std::size_t r0, std::size_t b0) {
        detail::ggml_tile256<Arch, Q8, Vnni, R, B>(w, xa, r0, b0, y, ldy);
      };
      detail::ggml_rows_tiled<(Q8 ? 2 : 4), 4, 2>(xa, r_begin, r_end, tile);
    };
    if (q8)
      vnni ? go.template operator()<true, true>() : go.template operator()<true, false>();
    else
      vnni ? go.template operator()<false, true>() : go.template operator()<false, false>();
    return;
  }
#endif
  if (q8)
    detail::ggml_rows_portable<Arch, true>(w, xa, y, ldy, r_begin, r_end);
  else
    detail::ggml_rows_portable<Arch, false>(w, xa, y, ldy, r_begin, r_end);
}
PARE_DISPATCHED_KERNEL(void, GgmlMatmulRows::operator(),
                       (const GgmlBlockMatrix&, const GgmlQ8Activations&, float*, std::size_t,
                        std::size_t, std::size_t, bool),
                       const noexcept)

/// y = W x for W [rows, cols] in Q4_0, x [cols], y [rows]: x quantized to Q8_0 (per-thread
/// scratch), GgmlMatmulRows on the tier simd::dispatch chooses, row blocks over pare's threads
/// (bit-identical for any thread count). `allow_vnni` false runs the tier as on a CPU without
/// its VNNI (for tests and benchmarks). @pre y does not overlap x.
void gemv(const GgmlQ4_0Matrix& w, const float* x, float* y, bool allow_vnni = true);
/// y = W x for a Q8_0 matrix; as the Q4_0 overload.
void gemv(const GgmlQ8_0Matrix& w, const float* x, float* y, bool allow_vnni = true);
/// Y = X Wᵀ for X [n, cols] and Y [n, rows] row-major (prompt processing): each row of Y is
/// bit-identical to gemv() of that row of X; each decoded tile of W serves up to 4 rows of X.
/// ArgumentError when n * cols or n * rows overflows. @pre Y does not overlap X.
void gemm(const GgmlQ4_0Matrix& w, const float* x, std::size_t n, float* y, bool allow_vnni = true);
/// Y = X Wᵀ for a Q8_0 matrix; as the Q4_0 overload.
void gemm(const GgmlQ8_0Matrix& w, const float* x, std::size_t n, float* y, bool allow_vnni = true);

}  // namespace pare::kernels

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

#ifndef PARE_COMPILED_LIB
#include "pare/kernels/matmul_ggml-inl.hpp"
#endif
