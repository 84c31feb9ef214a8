// SPDX-License-Identifier: Apache-2.0
// pare — 4-bit weight-only GEMV y = W x with fused dequantization (W an Int4Matrix, x and y f32).
//
// A 4096x4096 Codebook4Log<16> matrix is 9 MiB against 64 MiB in f32, so the kernel must decode as
// fast as memory delivers. Two kernels:
//   GemvInt4     f32 all the way: codes decode to f32 through the codebook in one register
//                (AVX-512 `vpermps`, 16 codes per instruction), FMA with x, scale per group.
//                Exact up to f32 rounding; ~4 vector instructions per 16 weights.
//   GemvInt4Q8   x is first quantized to int8 per weight group (once per call, shared by all
//                rows); codes decode to int8 with `vpermb` (VBMI; else mask + `vpshufb`), 64 per
//                instruction, and multiply with AVX-512 VNNI `vpdpbusd` (64 products per
//                instruction): ~3x fewer instructions per weight (~9 per 128 weights and row). Adds
//                x's rounding error: at most half an int8 step of x per weight (0.4 % of the
//                group's largest |x|), far below the 4-bit weight error. AVX2 (no VNNI): `vpshufb`
//                to signed int8 levels, `vpmaddubsw(|w|, sign(x, w))`.
//   GemmInt4Q8   the same for a small batch (2-8 vectors): each decoded block serves up to 4.
// pare::gemv(Int4Matrix, x, y) uses GemvInt4Q8 (pare::gemm_int4 GemmInt4Q8); docs/kernels-int4.md
// has the measurements. SSE2 and other ISAs decode a group through a scalar table and multiply
// with the arch's xsimd FMA: correct, not fast.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "pare/core/error.hpp"
#include "pare/core/parallel.hpp"
#include "pare/core/tensor.hpp"
#include "pare/quant/int4_block.hpp"
#include "pare/simd/arch.hpp"
#include "pare/simd/dispatch.hpp"

#if PARE_SIMD_X86
#include <immintrin.h>
#endif

#if PARE_SIMD_X86 && defined(__AVX512F__) && defined(__AVX512BW__)
#define PARE_INT4_AVX512 1
#else
#define PARE_INT4_AVX512 0
#endif
#if PARE_INT4_AVX512 && defined(__AVX512VNNI__)
#define PARE_INT4_VNNI 1
#else
#define PARE_INT4_VNNI 0
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

/// Scalar reference: y[r] = sum_c value(r, c) x[c], accumulated in double.
template <class Format>
inline void gemv_int4_reference(const Int4Matrix<Format>& w, const float* x, float* y) noexcept {
  for (std::size_t r = 0; r < w.rows(); ++r) {
    double s = 0;
    for (std::size_t c = 0; c < w.cols(); ++c) s += static_cast<double>(w.value(r, c)) * x[c];
    y[r] = static_cast<float>(s);
  }
}

namespace detail {

/// Every scale code decoded (kept by the matrix, so a call costs nothing to set up).
template <class Format>
inline const std::array<float, 256>& scale_table(const Int4Matrix<Format>& w) noexcept {
  return w.scale_table();
}

/// sum_{c in [c0, c1)} value(r, c) x[c] in f32 through the scale table: tails and the portable
/// path.
template <class Arch = void, class Format>
inline float dot_int4_scalar(const Int4Matrix<Format>& w, const std::array<float, 256>& st,
                             std::size_t r, std::size_t c0, std::size_t c1,
                             const float* x) noexcept {
  constexpr std::size_t G = Format::group;
  const auto& cb = Format::levels();
  float total = 0;
  for (std::size_t g0 = c0; g0 < c1; g0 += G) {
    float part = 0;
    for (std::size_t c = g0; c < g0 + G; ++c) part += static_cast<float>(cb[w.code(r, c)]) * x[c];
    total += part * st[w.scale_codes()[w.scale_index(r, g0 / G)]];
  }
  return total;
}

/// x reordered to the code order of full 128-weight blocks (int4_block_offset): per block, 64
/// values for the low nibbles, then 64 for the high ones. Built once per call, shared by all rows.
template <std::size_t Group>
inline void permute_x(const float* x, std::size_t full, std::vector<float>& out) {
  out.resize(full);
  for (std::size_t c = 0; c < full; c += int4_block)
    for (std::size_t p = 0; p < 64; ++p) {
      out[c + p] = x[c + int4_block_offset<Group>(p)];
      out[c + 64 + p] = x[c + int4_block_offset<Group>(p) + Group / 2];
    }
}

#if PARE_INT4_AVX512
/// GemvInt4 on AVX-512 for `Rows` rows: per 128-weight block, 4 loads of 16 code bytes per row,
/// each widened to dwords and looked up twice (low and high nibbles), against x in code order.
template <std::size_t Rows, class Format>
inline void gemv_int4_rows_avx512(const Int4Matrix<Format>& w, const std::array<float, 256>& st,
                                  std::size_t r0, const float* xp, const float* x,
                                  float* y) noexcept {
  constexpr std::size_t G = Format::group;
  const std::size_t cols = w.cols(), full = cols / int4_block * int4_block;
  alignas(64) float cbf[16];
  for (std::size_t i = 0; i < 16; ++i) cbf[i] = static_cast<float>(Format::levels()[i]);
  const __m512 cb = _mm512_load_ps(cbf);
  // Rows r0.. share a row block (Rows divides 8, r0 % Rows == 0): row r is 64 bytes after r - 1.
  const std::uint8_t* q = w.block_codes(r0, 0);
  const std::size_t stride = w.block_stride(r0);
  const std::uint8_t* s = w.scale_codes();
  __m512 acc[Rows];
  for (auto& a : acc) a = _mm512_setzero_ps();
  for (std::size_t c = 0; c < full; c += int4_block) {
    const std::size_t g = c / G;
    for (std::size_t j = 0; j < 4; ++j) {
      const __m512 xl = _mm512_loadu_ps(xp + c + 16 * j),
                   xh = _mm512_loadu_ps(xp + c + 64 + 16 * j);
      for (std::size_t r = 0; r < Rows; ++r) {
        const __m512i idx = _mm512_cvtepu8_epi32(_mm_loadu_si128(
            reinterpret_cast<const __m128i*>(q + (c / int4_block) * stride + r * 64 + 16 * j)));
        // vpermps reads only the low 4 bits of each index: no mask for the low nibble.
        const __m512 wl = _mm512_permutexvar_ps(idx, cb);
        const __m512 wh = _mm512_permutexvar_ps(_mm512_srli_epi32(idx, 4), cb);
        const __m512 part = _mm512_fmadd_ps(wh, xh, _mm512_mul_ps(wl, xl));
        const std::uint8_t* sr = s + w.scale_index(r0 + r, g);  // a block's groups are consecutive
        // These 16 floats (lanes 4j..4j+3) are two groups (G = 16: 2j, then 2j + 1) or one
        // (G >= 32: group 32 j / G).
        const __m512 sv = G == 16 ? _mm512_insertf32x8(_mm512_set1_ps(st[sr[2 * j]]),
                                                       _mm256_set1_ps(st[sr[2 * j + 1]]), 1)
                                  : _mm512_set1_ps(st[sr[32 * j / G]]);
        acc[r] = _mm512_fmadd_ps(part, sv, acc[r]);
      }
    }
  }
  for (std::size_t r = 0; r < Rows; ++r)
    y[r] = _mm512_reduce_add_ps(acc[r]) + dot_int4_scalar(w, st, r0 + r, full, cols, x);
}
#endif

/// y[r] for r in [r0, r1) on any arch: a group decoded to floats, then the arch's FMA in batches
/// (the scalar sum without SIMD). The path of the archs without a decode of their own.
template <class Arch, class Format>
inline void gemv_int4_rows_portable(const Int4Matrix<Format>& w, const std::array<float, 256>& st,
                                    const float* x, float* y, std::size_t r0,
                                    std::size_t r1) noexcept {
  if constexpr (!std::is_same_v<Arch, xsimd::unavailable>) {
    using B = xsimd::batch<float, Arch>;
    constexpr std::size_t G = Format::group;
    static_assert(G % B::size == 0, "a group must be whole batches");
    alignas(64) float wf[G];
    const auto& cb = Format::levels();
    for (std::size_t r = r0; r < r1; ++r) {
      B acc(0.0f);
      for (std::size_t g0 = 0; g0 < w.cols(); g0 += G) {
        for (std::size_t i = 0; i < G; ++i) wf[i] = static_cast<float>(cb[w.code(r, g0 + i)]);
        B part(0.0f);
        for (std::size_t i = 0; i < G; i += B::size)
          part = simd::fma(B::load_aligned(wf + i), B::load_unaligned(x + g0 + i), part);
        acc = simd::fma(part, B(st[w.scale_codes()[w.scale_index(r, g0 / G)]]), acc);
      }
      y[r] = xsimd::hadd(acc);
    }
  } else {
    for (std::size_t r = r0; r < r1; ++r) y[r] = dot_int4_scalar<Arch>(w, st, r, 0, w.cols(), x);
  }
}

}  // namespace detail

/// y = W x, f32 throughout (see the file comment). AVX-512: `BlockRows` rows at a time, so x is
/// loaded once per block and BlockRows code streams are in flight; other archs decode through a
/// scalar table and use the arch's FMA. Each result is within gamma_cols * sum_c |w_rc x_c| of
/// exact (group sums in f32, scaled once per group, plus the lane reduction).
/// @pre y does not overlap x.
template <std::size_t BlockRows>
struct GemvInt4Tuned {
  static_assert(8 % BlockRows == 0,
                "GemvInt4Tuned<BlockRows> needs BlockRows to divide 8, the layout's row block");
  template <class Arch, class Format>
  void operator()(Arch, const Int4Matrix<Format>& w, const float* x, float* y) const noexcept {
    const auto& st = detail::scale_table(w);
    const std::size_t rows = w.rows();
    std::size_t r = 0;
#if PARE_INT4_AVX512
    if constexpr (std::is_same_v<Arch, xsimd::avx512bw>) {
      const std::size_t cols = w.cols();
      thread_local std::vector<float> xp;
      detail::permute_x<Format::group>(x, cols / int4_block * int4_block, xp);
      const std::size_t block_rows_end =
          rows / Int4Matrix<Format>::row_block * Int4Matrix<Format>::row_block;
      for (; r + BlockRows <= block_rows_end; r += BlockRows)
        detail::gemv_int4_rows_avx512<BlockRows>(w, st, r, xp.data(), x, y + r);
      for (; r < rows; ++r) detail::gemv_int4_rows_avx512<1>(w, st, r, xp.data(), x, y + r);
      return;
    }
#endif
    detail::gemv_int4_rows_portable<Arch>(w, st, x, y, r, rows);
  }
};

/// GemvInt4 with 4 rows per block.
struct GemvInt4 {
  template <class Arch, class Format>
  void operator()(Arch arch, const Int4Matrix<Format>& w, const float* x, float* y) const noexcept {
    GemvInt4Tuned<4>{}(arch, w, x, y);
  }
};

/// x quantized to int8 for GemvInt4Q8, in blocks the size of the weight groups (16..128): codes,
/// each block's scale, and each block's bias correction -128 * scale * (sum of its codes), which
/// undoes the +128 that makes the weight levels unsigned for vpdpbusd (u8 x s8).
struct QuantizedActivations {
  std::size_t block = 32;
  std::vector<std::int8_t> codes;  ///< in code order
  std::vector<std::int8_t> plain;  ///< in x's order
  std::vector<float> scale;
  std::vector<float> bias;

  /// Quantizes x[0, n) (n a multiple of 128): code = round(x * 127 / max|x of the block|), codes
  /// stored in the weights' code order (int4_block_offset<Group>).
  template <std::size_t Group>
  void quantize(const float* x, std::size_t n) {
    block = Group;
    codes.resize(n);
    plain.resize(n);
    // 16 zero blocks past the end: the kernels load a chunk's 16 scales at once.
    scale.assign(n / block + 16, 0.0f);
    bias.assign(n / block + 16, 0.0f);
    for (std::size_t b = 0; b < n / block; ++b) {
      float m = 0;
      for (std::size_t i = 0; i < block; ++i) m = std::max(m, std::abs(x[b * block + i]));
      const float inv = m > 0 ? 127.0f / m : 0.0f;
      std::int32_t sum = 0;
      for (std::size_t i = 0; i < block; ++i) {
        const auto q = static_cast<std::int8_t>(
            std::lrint(std::clamp(x[b * block + i] * inv, -127.0f, 127.0f)));
        plain[b * block + i] = q;
        sum += q;
      }
      scale[b] = m / 127.0f;
      bias[b] = -128.0f * scale[b] * static_cast<float>(sum);
    }
    for (std::size_t c = 0; c < n; c += int4_block)
      for (std::size_t p = 0; p < 64; ++p) {
        codes[c + p] = plain[c + int4_block_offset<Group>(p)];
        codes[c + 64 + p] = plain[c + int4_block_offset<Group>(p) + Group / 2];
      }
  }
  /// The value x[c] stands for after quantization.
  [[nodiscard]] float value(std::size_t c) const noexcept {
    return scale[c / block] * static_cast<float>(plain[c]);
  }
};

namespace detail {

#if PARE_INT4_AVX512
/// vpdpbusd (AVX-512 VNNI) on zmm: acc + the sums of 4 products u8 (u) x s8 (s) per dword lane.
/// Written in asm so that the x86-64-v4 object (no VNNI in its -march) carries it; callers run
/// it only where simd::cpu_features().avx512vnni.
template <class Arch>
[[gnu::always_inline]] inline __m512i dpbusd512(__m512i acc, __m512i u, __m512i s) noexcept {
  asm("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(u), "v"(s));
  return acc;
}

/// 16 scale codes (fewer when `count` < 16; the rest read as code 0) decoded to floats:
/// table[s & 15] * (s & 0x80 ? -1 : 1) * 2^(-2 * ((s >> 4) & 7)), two 16-entry lookups (`vpermps`
/// reads the low 4 bits of each index) and a product, exact since the second factor is +-2^-2k.
template <class Arch>
[[gnu::always_inline]] inline __m512 decode_scales16(const std::uint8_t* p, unsigned count,
                                                     __m512 frac, __m512 octave) noexcept {
  const __mmask16 m = count >= 16 ? __mmask16(0xFFFF) : static_cast<__mmask16>((1u << count) - 1);
  const __m512i c = _mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(m, p));
  return _mm512_mul_ps(_mm512_permutexvar_ps(c, frac),
                       _mm512_permutexvar_ps(_mm512_srli_epi32(c, 4), octave));
}

/// The constants every VNNI row kernel needs: the codebook as unsigned bytes (level + 128)
/// repeated over 64 bytes, the scale-decoding tables and each lane's group within a block.
template <class Arch, class Format>
struct Q8Constants {
  __m512i table, lane_group;
  __m512 frac, octave;
  explicit Q8Constants(const Int4Matrix<Format>& w) noexcept {
    alignas(64) std::uint8_t lut[64];
    for (std::size_t i = 0; i < 64; ++i)
      lut[i] = static_cast<std::uint8_t>(Format::levels()[i % 16] + 128);
    table = _mm512_load_si512(lut);
    frac = _mm512_loadu_ps(w.scale_fractions().data());
    alignas(64) float oct[16];
    for (int i = 0; i < 16; ++i) oct[i] = std::ldexp((i & 8) != 0 ? -1.0f : 1.0f, -2 * (i & 7));
    octave = _mm512_load_ps(oct);
    // Lane l of a block holds group l / (G / 8) of the block, in both halves.
    alignas(64) std::int32_t lg[16];
    for (int l = 0; l < 16; ++l) lg[l] = l / static_cast<int>(Format::group / 8);
    lane_group = _mm512_load_si512(lg);
  }
};

/// 64 code bytes to 64 + 64 unsigned weights (level + 128), low nibbles then high nibbles.
/// With VBMI, `vpermb` reads 6 index bits and the table repeats every 16 bytes, so the nibble
/// masks are not needed; else `vpshufb` (4 bits per 128-bit lane, bit 7 zeroes) after a mask.
template <class Arch>
[[gnu::always_inline]] inline void decode_codes64(__m512i v, __m512i table, __m512i& lo,
                                                  __m512i& hi) noexcept {
#if defined(__AVX512VBMI__)
  lo = _mm512_permutexvar_epi8(v, table);
  hi = _mm512_permutexvar_epi8(_mm512_srli_epi16(v, 4), table);
#else
  const __m512i nib = _mm512_set1_epi8(0x0F);
  lo = _mm512_shuffle_epi8(table, _mm512_and_si512(v, nib));
  hi = _mm512_shuffle_epi8(table, _mm512_and_si512(_mm512_srli_epi16(v, 4), nib));
#endif
}

/// `Rows` rows (of one row block) times `Batch` activation vectors, x quantized per group (xa),
/// y[b * ldy + r] written. Each 64-byte code load is decoded once and used for every vector.
/// PrefetchBytes > 0: software prefetch that far ahead in the code stream (and proportionally in
/// the scale stream); the layout makes both one sequential stream over the whole matrix.
template <class Arch, std::size_t Rows, std::size_t Batch, std::size_t PrefetchBytes, class Format>
inline void int4_q8_rows(const Int4Matrix<Format>& w, const std::array<float, 256>& st,
                         const Q8Constants<Arch, Format>& k, const QuantizedActivations* xa,
                         std::size_t r0, const float* x, std::size_t ldx, float* y,
                         std::size_t ldy) noexcept {
  constexpr std::size_t G = Format::group;
  constexpr std::size_t chunk = 16 * G;  // weights per 16 decoded scales
  const std::size_t cols = w.cols(), full = cols / int4_block * int4_block;
  // Rows r0.. share a row block (Rows divides 8, r0 % Rows == 0): one sequential stream of codes.
  const std::uint8_t* q = w.block_codes(r0, 0);
  const std::size_t stride = w.block_stride(r0);
  __m512 acc[Rows][Batch];
  for (auto& ar : acc)
    for (auto& a : ar) a = _mm512_setzero_ps();
  for (std::size_t c0 = 0; c0 < full; c0 += chunk) {
    const std::size_t c1 = std::min(full, c0 + chunk);
    const auto n = static_cast<unsigned>((c1 - c0) / G);
    const __mmask16 m = n >= 16 ? __mmask16(0xFFFF) : static_cast<__mmask16>((1u << n) - 1);
    // Per group: weight scale * x scale, applied per lane; the bias correction once per group.
    // Batch 1: per group weight scale * x scale, one vector per row. Batch > 1: the two factors
    // kept apart (Rows + Batch vectors instead of Rows * Batch, which would not fit in registers)
    // and applied per block, one multiply more per row and vector.
    constexpr std::size_t SC = Batch == 1 ? 1 : 0;
    __m512 sc[Rows], ws[Rows], xs[Batch];
    for (std::size_t b = 0; b < Batch; ++b)
      xs[b] = _mm512_maskz_loadu_ps(m, xa[b].scale.data() + c0 / G);
    for (std::size_t r = 0; r < Rows; ++r) {
      const std::uint8_t* sp = w.scale_codes() + w.scale_index(r0 + r, c0 / G);
      if constexpr (PrefetchBytes > 0) __builtin_prefetch(sp + PrefetchBytes * 2 / G, 0, 3);
      ws[r] = decode_scales16<Arch>(sp, n, k.frac, k.octave);
      for (std::size_t b = 0; b < Batch; ++b)
        acc[r][b] =
            _mm512_fmadd_ps(ws[r], _mm512_maskz_loadu_ps(m, xa[b].bias.data() + c0 / G), acc[r][b]);
      if constexpr (SC == 1) sc[r] = _mm512_mul_ps(ws[r], xs[0]);
    }
    for (std::size_t c = c0; c < c1; c += int4_block) {
      const __m512i gi =
          _mm512_add_epi32(k.lane_group, _mm512_set1_epi32(static_cast<int>((c - c0) / G)));
      const std::uint8_t* qc = q + (c / int4_block) * stride;
      if constexpr (PrefetchBytes > 0) {  // past the end of W is harmless: prefetches never fault
        for (std::size_t r = 0; r < Rows; ++r)
          __builtin_prefetch(qc + r * 64 + PrefetchBytes, 0, 3);
      }
      __m512 xl[Batch];
      if constexpr (SC == 0)
        for (std::size_t b = 0; b < Batch; ++b) xl[b] = _mm512_permutexvar_ps(gi, xs[b]);
      for (std::size_t r = 0; r < Rows; ++r) {
        __m512i wlo, whi;
        decode_codes64<Arch>(_mm512_loadu_si512(qc + r * 64), k.table, wlo, whi);
        const __m512 lane_scale = _mm512_permutexvar_ps(gi, SC == 1 ? sc[r] : ws[r]);
        for (std::size_t b = 0; b < Batch; ++b) {
          const __m512i xlo = _mm512_loadu_si512(xa[b].codes.data() + c),
                        xhi = _mm512_loadu_si512(xa[b].codes.data() + c + 64);
          // Both halves' lanes hold the same groups: sum them in int32, scale each lane once.
          const __m512i d =
              dpbusd512<Arch>(dpbusd512<Arch>(_mm512_setzero_si512(), wlo, xlo), whi, xhi);
          __m512 v = _mm512_cvtepi32_ps(d);
          if constexpr (SC == 0) v = _mm512_mul_ps(v, xl[b]);
          acc[r][b] = _mm512_fmadd_ps(v, lane_scale, acc[r][b]);
        }
      }
    }
  }
  for (std::size_t r = 0; r < Rows; ++r)
    for (std::size_t b = 0; b < Batch; ++b)
      y[b * ldy + r] = _mm512_reduce_add_ps(acc[r][b]) +
                       dot_int4_scalar<Arch>(w, st, r0 + r, full, cols, x + b * ldx);
}
#endif

#if PARE_SIMD_X86 && defined(__AVX2__) && defined(__FMA__)
#define PARE_INT4_AVX2 1
/// vpdpbusd on ymm, VEX-encoded (AVX-VNNI: Alder Lake, Zen 5): acc + the sums of 4 products u8
/// (u) x s8 (s) per dword lane. In asm so that the x86-64-v3 object carries it; callers run it
/// only where simd::cpu_features().avx_vnni.
template <class Arch>
[[gnu::always_inline]] inline __m256i dpbusd256(__m256i acc, __m256i u, __m256i s) noexcept {
  asm("%{vex%} vpdpbusd %2, %1, %0" : "+x"(acc) : "x"(u), "x"(s));
  return acc;
}

/// 8 scale codes (the low 8 bytes of `codes`) decoded exactly as Int4Matrix::decode_scale:
/// frac[s & 15] (two 8-entry `vpermps` and a blend on bit 3) times +-2^(-2 ((s >> 4) & 7)), a
/// power of two, so the product is exact.
template <class Arch>
[[gnu::always_inline]] inline __m256 decode_scales8(__m128i codes, __m256 frac_lo, __m256 frac_hi,
                                                    __m256 octave) noexcept {
  const __m256i s = _mm256_cvtepu8_epi32(codes);
  const __m256 f =
      _mm256_blendv_ps(_mm256_permutevar8x32_ps(frac_lo, s), _mm256_permutevar8x32_ps(frac_hi, s),
                       _mm256_castsi256_ps(_mm256_slli_epi32(s, 28)));
  const __m256 o = _mm256_permutevar8x32_ps(octave, _mm256_srli_epi32(s, 4));
  const __m256 sign = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_srli_epi32(s, 7), 31));
  return _mm256_mul_ps(f, _mm256_xor_ps(o, sign));
}

/// GemvInt4Q8 on AVX2 for `Rows` rows of one row block (r0 % Rows == 0). Per half block (32 code
/// bytes) `vpshufb` decodes the levels; Vnni: unsigned (level + 128) bytes and two `vpdpbusd`
/// per 64 weights, the +128 undone per group through xa.bias; else signed levels and
/// `vpmaddubsw(|w|, sign(x, w))` + `vpmaddwd` (|level|, |x| <= 127: a pair sums to at most 32258,
/// no saturation). Then one FMA with the lane's scale (weight scale * x scale, 16 groups decoded
/// at once per row). Code bytes are prefetched 1 KiB ahead (one sequential stream per row block).
template <class Arch, bool Vnni, std::size_t Rows, class Format>
inline void int4_q8_rows_avx2(const Int4Matrix<Format>& w, const QuantizedActivations& xa,
                              std::size_t r0, const float* x, float* y) noexcept {
  constexpr std::size_t G = Format::group, chunk = 16 * G;
  const std::size_t cols = w.cols(), full = cols / int4_block * int4_block;
  alignas(16) std::uint8_t lv[16];
  for (std::size_t i = 0; i < 16; ++i)
    lv[i] = static_cast<std::uint8_t>(Format::levels()[i] + (Vnni ? 128 : 0));
  const __m256i table =
      _mm256_broadcastsi128_si256(_mm_load_si128(reinterpret_cast<const __m128i*>(lv)));
  const __m256i nib = _mm256_set1_epi8(0x0F);
  // Lane l of half h of a block holds group (8 h + l) / (G / 8) of the block.
  alignas(32) std::int32_t i0[8], i1[8];
  for (int l = 0; l < 8; ++l) {
    i0[l] = l / static_cast<int>(G / 8);
    i1[l] = (8 + l) / static_cast<int>(G / 8);
  }
  const __m256i idx[2] = {_mm256_load_si256(reinterpret_cast<const __m256i*>(i0)),
                          _mm256_load_si256(reinterpret_cast<const __m256i*>(i1))};
  const __m256 frac_lo = _mm256_loadu_ps(w.scale_fractions().data()),
               frac_hi = _mm256_loadu_ps(w.scale_fractions().data() + 8),
               octave = _mm256_setr_ps(1.0f, 0x1p-2f, 0x1p-4f, 0x1p-6f, 0x1p-8f, 0x1p-10f, 0x1p-12f,
                                       0x1p-14f);
  const std::uint8_t* q = w.block_codes(r0, 0);
  const std::size_t stride = w.block_stride(r0);
  __m256 acc[Rows];
  for (auto& a : acc) a = _mm256_setzero_ps();
  alignas(32) float comb[Rows][24] = {};  // a chunk's weight scale * x scale per group, padded
  for (std::size_t c0 = 0; c0 < full; c0 += chunk) {
    const std::size_t c1 = std::min(full, c0 + chunk), n = (c1 - c0) / G;
    // xa's scales and biases are zero-padded past the last group: whole vectors are safe.
    const __m256 xs0 = _mm256_loadu_ps(xa.scale.data() + c0 / G),
                 xs1 = _mm256_loadu_ps(xa.scale.data() + c0 / G + 8);
    for (std::size_t r = 0; r < Rows; ++r) {
      const std::uint8_t* sp = w.scale_codes() + w.scale_index(r0 + r, c0 / G);
      __m128i sc;
      if (n == 16) {
        sc = _mm_loadu_si128(reinterpret_cast<const __m128i*>(sp));
      } else {  // the row's last chunk: its scale codes may end the matrix
        alignas(16) std::uint8_t part[16] = {};
        for (std::size_t g = 0; g < n; ++g) part[g] = sp[g];
        sc = _mm_load_si128(reinterpret_cast<const __m128i*>(part));
      }
      const __m256 ws0 = decode_scales8<Arch>(sc, frac_lo, frac_hi, octave),
                   ws1 = decode_scales8<Arch>(_mm_unpackhi_epi64(sc, sc), frac_lo, frac_hi, octave);
      _mm256_store_ps(comb[r], _mm256_mul_ps(ws0, xs0));
      _mm256_store_ps(comb[r] + 8, _mm256_mul_ps(ws1, xs1));
      if constexpr (Vnni) {
        acc[r] = _mm256_fmadd_ps(ws0, _mm256_loadu_ps(xa.bias.data() + c0 / G), acc[r]);
        acc[r] = _mm256_fmadd_ps(ws1, _mm256_loadu_ps(xa.bias.data() + c0 / G + 8), acc[r]);
      }
    }
    for (std::size_t c = c0; c < c1; c += int4_block) {
      const std::size_t gb = (c - c0) / G;
      const std::uint8_t* qc = q + (c / int4_block) * stride;
#pragma GCC unroll 8
      for (std::size_t r = 0; r < Rows; ++r) __builtin_prefetch(qc + r * 64 + 4096, 0, 3);
      // Unrolled so that the accumulators stay in registers (-O2 keeps them on the stack).
#pragma GCC unroll 2
      for (std::size_t h = 0; h < 2; ++h) {
        const __m256i xl =
            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xa.codes.data() + c + 32 * h));
        const __m256i xh =
            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xa.codes.data() + c + 64 + 32 * h));
#pragma GCC unroll 8
        for (std::size_t r = 0; r < Rows; ++r) {
          const __m256i v =
              _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qc + r * 64 + 32 * h));
          const __m256i wl = _mm256_shuffle_epi8(table, _mm256_and_si256(v, nib));
          const __m256i wh =
              _mm256_shuffle_epi8(table, _mm256_and_si256(_mm256_srli_epi16(v, 4), nib));
          __m256i d;
          if constexpr (Vnni) {
            d = dpbusd256<Arch>(dpbusd256<Arch>(_mm256_setzero_si256(), wl, xl), wh, xh);
          } else {
            const __m256i ones = _mm256_set1_epi16(1);
            const __m256i pl = _mm256_maddubs_epi16(_mm256_abs_epi8(wl), _mm256_sign_epi8(xl, wl));
            const __m256i ph = _mm256_maddubs_epi16(_mm256_abs_epi8(wh), _mm256_sign_epi8(xh, wh));
            d = _mm256_add_epi32(_mm256_madd_epi16(pl, ones), _mm256_madd_epi16(ph, ones));
          }
          const __m256 s = _mm256_permutevar8x32_ps(_mm256_loadu_ps(comb[r] + gb), idx[h]);
          acc[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(d), s, acc[r]);
        }
      }
    }
  }
  for (std::size_t r = 0; r < Rows; ++r) {
    const __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(acc[r]), _mm256_extractf128_ps(acc[r], 1));
    const __m128 s2 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
    const float s1 = _mm_cvtss_f32(_mm_add_ss(s2, _mm_shuffle_ps(s2, s2, 1)));
    y[r] = s1 + dot_int4_scalar<Arch>(w, w.scale_table(), r0 + r, full, cols, x);
  }
}
#else
#define PARE_INT4_AVX2 0
#endif

}  // namespace detail

/// y = W x with x quantized to int8 per weight group (see the file comment), `BlockRows` rows at
/// a time. AVX-512 VNNI: `vpdpbusd`; with PrefetchBytes > 0 each code and scale stream is
/// software-prefetched that far ahead. AVX2: `vpmaddubsw` (4 rows at a time). Other archs: it is
/// GemvInt4 (f32). The last partial 128-weight block of a row, if any, is computed in f32 with the
/// exact x. Error: the f32 kernel's, plus sum_c |w_rc| * d_b(c) / 2 for x's rounding (d_b = the
/// largest |x| of c's group / 127).
/// @pre y does not overlap x.
template <std::size_t BlockRows, std::size_t PrefetchBytes = 0>
struct GemvInt4Q8Tuned {
  static_assert(8 % BlockRows == 0,
                "GemvInt4Q8Tuned<BlockRows> needs BlockRows to divide 8, the layout's row block");
  template <class Arch, class Format>
  void operator()(Arch arch, const Int4Matrix<Format>& w, const float* x, float* y) const noexcept {
    [[maybe_unused]] const std::size_t block_rows_end =
        w.rows() / Int4Matrix<Format>::row_block * Int4Matrix<Format>::row_block;
    [[maybe_unused]] const std::size_t full = w.cols() / int4_block * int4_block;
#if PARE_INT4_VNNI
    if constexpr (std::is_same_v<Arch, xsimd::avx512bw>) {
      thread_local QuantizedActivations xa;
      xa.quantize<Format::group>(x, full);
      // The f32 tail (a last partial 128-block) decodes scales through a table.
      const auto& st = detail::scale_table(w);
      const detail::Q8Constants<Arch, Format> k(w);
      std::size_t r = 0;
      // Whole row blocks BlockRows rows at a time; the last, shorter row block row by row.
      for (; r + BlockRows <= block_rows_end; r += BlockRows)
        detail::int4_q8_rows<Arch, BlockRows, 1, PrefetchBytes>(w, st, k, &xa, r, x, 0, y + r, 0);
      for (; r < w.rows(); ++r)
        detail::int4_q8_rows<Arch, 1, 1, 0>(w, st, k, &xa, r, x, 0, y + r, 0);
      return;
    }
#endif
#if PARE_INT4_AVX2
    if constexpr (std::is_same_v<Arch, xsimd::fma3<xsimd::avx2>>) {
      thread_local QuantizedActivations xa;
      xa.quantize<Format::group>(x, full);
      std::size_t r = 0;
      for (; r + 4 <= block_rows_end; r += 4)
        detail::int4_q8_rows_avx2<Arch, false, 4>(w, xa, r, x, y + r);
      for (; r < w.rows(); ++r) detail::int4_q8_rows_avx2<Arch, false, 1>(w, xa, r, x, y + r);
      return;
    }
#endif
    GemvInt4{}(arch, w, x, y);
  }
};

/// Rows [r_begin, r_end) of y = W x with x already quantized (xa = x quantized with
/// QuantizedActivations::quantize<Format::group> over its whole 128-weight blocks), the
/// dispatched kernel behind pare::gemv for Int4Matrix. r_begin is a multiple of 8 (a row block);
/// each row's result depends on the row only, not on the range, so any split of the rows gives
/// the same bits. AVX-512: `vpdpbusd` on zmm where `vnni` (8 rows at a time, code stream
/// prefetched 1 KiB ahead), else the AVX2 kernel. AVX2: `vpdpbusd` on ymm where `vnni`, else
/// `vpmaddubsw`, 4 rows at a time. Other archs: f32, x unquantized (xa unused). `vnni` says the
/// CPU has this tier's VNNI (AVX-512 VNNI, AVX-VNNI), from detail::int4_vnni<Arch>(): the kernel
/// cannot ask, as the tier objects must not hold the detection code. Error bound:
/// GemvInt4Q8Tuned's.
/// @pre y does not overlap x; r_begin <= r_end <= w.rows().
struct GemvInt4Q8Rows {
  template <class Arch, class Format>
  void operator()(Arch, const Int4Matrix<Format>& w, const QuantizedActivations& xa, const float* x,
                  float* y, std::size_t r_begin, std::size_t r_end, bool vnni) const noexcept;
};

template <class Arch, class Format>
void GemvInt4Q8Rows::operator()(Arch, const Int4Matrix<Format>& w,
                                [[maybe_unused]] const QuantizedActivations& xa, const float* x,
                                float* y, std::size_t r_begin, std::size_t r_end,
                                [[maybe_unused]] bool vnni) const noexcept {
  [[maybe_unused]] const std::size_t block_end =
      std::min(r_end, w.rows() / Int4Matrix<Format>::row_block * Int4Matrix<Format>::row_block);
  std::size_t r = r_begin;
#if PARE_INT4_AVX512
  if constexpr (std::is_same_v<Arch, xsimd::avx512bw>) {
    if (vnni) {
      const detail::Q8Constants<Arch, Format> k(w);
      const auto& st = w.scale_table();
      for (; r + 8 <= block_end; r += 8)
        detail::int4_q8_rows<Arch, 8, 1, 1024>(w, st, k, &xa, r, x, 0, y + r, 0);
      for (; r < r_end; ++r) detail::int4_q8_rows<Arch, 1, 1, 0>(w, st, k, &xa, r, x, 0, y + r, 0);
      return;
    }
  }
#endif
#if PARE_INT4_AVX2
  if constexpr (std::is_same_v<Arch, xsimd::fma3<xsimd::avx2>> ||
                std::is_same_v<Arch, xsimd::avx512bw>) {
    if (vnni && std::is_same_v<Arch, xsimd::fma3<xsimd::avx2>>) {
      for (; r + 4 <= block_end; r += 4)
        detail::int4_q8_rows_avx2<Arch, true, 4>(w, xa, r, x, y + r);
      for (; r < r_end; ++r) detail::int4_q8_rows_avx2<Arch, true, 1>(w, xa, r, x, y + r);
    } else {
      for (; r + 4 <= block_end; r += 4)
        detail::int4_q8_rows_avx2<Arch, false, 4>(w, xa, r, x, y + r);
      for (; r < r_end; ++r) detail::int4_q8_rows_avx2<Arch, false, 1>(w, xa, r, x, y + r);
    }
    return;
  }
#endif
  detail::gemv_int4_rows_portable<Arch>(w, w.scale_table(), x, y, r, r_end);
}
#define PARE_INT4_ROWS_KERNEL(G)                                                           \
  PARE_DISPATCHED_KERNEL(void, GemvInt4Q8Rows::operator(),                                 \
                         (const Int4Matrix<Codebook4Log<G>>&, const QuantizedActivations&, \
                          const float*, float*, std::size_t, std::size_t, bool),           \
                         const noexcept)
PARE_INT4_ROWS_KERNEL(16)
PARE_INT4_ROWS_KERNEL(32)
PARE_INT4_ROWS_KERNEL(64)
PARE_INT4_ROWS_KERNEL(128)
#undef PARE_INT4_ROWS_KERNEL

namespace detail {
/// Whether GemvInt4Q8Rows may use Arch's VNNI: the CPU has it and `allow` (false runs the tier as
/// on a CPU without it, e.g. Zen 3's AVX2: for benchmarks and tests).
template <class Arch>
[[nodiscard]] bool int4_vnni(bool allow = true) {
  const simd::CpuFeatures& f = simd::cpu_features();
  if constexpr (simd::tier_of<Arch>() == simd::Tier::avx512)
    return allow && f.avx512f && f.avx512bw && f.avx512vnni;
  else if constexpr (simd::tier_of<Arch>() == simd::Tier::avx2)
    return allow && f.avx_vnni;
  else
    return false;
}
}  // namespace detail

/// y = W x on the best path the CPU runs (simd::dispatch, GemvInt4Q8Rows), x quantized once per
/// call on the calling thread, row blocks split over pare's threads (core/parallel.hpp): the
/// result is bit-identical for any thread count. `allow_vnni` false: see GemvInt4Q8Rows.
/// @pre y does not overlap x.
template <class Format>
void gemv_int4_q8(const Int4Matrix<Format>& w, const float* x, float* y, bool allow_vnni = true) {
  const std::size_t rows = w.rows(), cols = w.cols(), rb = Int4Matrix<Format>::row_block;
  if constexpr (simd::has_simd) {
    thread_local QuantizedActivations tl;
    const QuantizedActivations* xa = &tl;  // the tasks read the caller's copy
    if (simd::active_tier() >= simd::Tier::avx2)
      tl.quantize<Format::group>(x, cols / int4_block * int4_block);
    // Pieces of at least ~64 KiB of codes (~5 us): a row block is 4 * cols bytes.
    const std::size_t grain = std::max<std::size_t>(1, (std::size_t{1} << 16) / (4 * cols + 1));
    parallel_for(0, (rows + rb - 1) / rb, grain, [&](std::size_t lo, std::size_t hi) {
      simd::dispatch([&](auto arch) {
        GemvInt4Q8Rows{}(arch, w, *xa, x, y, lo * rb, std::min(rows, hi * rb),
                         detail::int4_vnni<decltype(arch)>(allow_vnni));
      });
    });
  } else {
    for (std::size_t r = 0; r < rows; ++r)
      y[r] = detail::dot_int4_scalar(w, w.scale_table(), r, 0, cols, x);
  }
}

/// The int4 GEMV kernel for a given arch, one thread: GemvInt4Q8Rows over all rows, x quantized
/// here. pare::gemv runs gemv_int4_q8 (the tier simd::dispatch chooses, threaded).
struct GemvInt4Q8 {
  template <class Arch, class Format>
  void operator()(Arch arch, const Int4Matrix<Format>& w, const float* x, float* y) const noexcept {
    thread_local QuantizedActivations xa;
    if constexpr (simd::tier_of<Arch>() >= simd::Tier::avx2)
      xa.quantize<Format::group>(x, w.cols() / int4_block * int4_block);
    GemvInt4Q8Rows{}(arch, w, xa, x, y, 0, w.rows(), detail::int4_vnni<Arch>());
  }
};

/// Scalar reference of the batched product: y[b * ldy + r] = sum_c value(r, c) x[b * ldx + c],
/// accumulated in double.
template <class Format>
inline void gemm_int4_reference(const Int4Matrix<Format>& w, const float* x, std::size_t batch,
                                std::size_t ldx, float* y, std::size_t ldy) noexcept {
  for (std::size_t b = 0; b < batch; ++b)
    for (std::size_t r = 0; r < w.rows(); ++r) {
      double s = 0;
      for (std::size_t c = 0; c < w.cols(); ++c)
        s += static_cast<double>(w.value(r, c)) * x[b * ldx + c];
      y[b * ldy + r] = static_cast<float>(s);
    }
}

/// Small-batch int4 GEMM, Y = X W^T: `batch` activation vectors (rows of X, stride ldx) times the
/// 4-bit matrix W [rows, cols], Y [batch, rows] (stride ldy) — the speculative-decoding and
/// small-batch serving case. AVX-512 VNNI: each x quantized to int8 per group as in GemvInt4Q8,
/// vectors taken 4 at a time (2 with 8 rows per block, 3-4 with 4: the accumulators must stay in
/// the 32 registers), each decoded block of weights used for all of them, so W streams from
/// memory once per 4 vectors. Other archs: GemvInt4Q8 per vector. Error bound per element:
/// GemvInt4Q8's.
/// @pre Y does not overlap X.
struct GemmInt4Q8 {
  template <class Arch, class Format>
  void operator()(Arch arch, const Int4Matrix<Format>& w, const float* x, std::size_t batch,
                  std::size_t ldx, float* y, std::size_t ldy) const noexcept {
#if PARE_INT4_VNNI
    if constexpr (std::is_same_v<Arch, xsimd::avx512bw>) {
      thread_local std::vector<QuantizedActivations> xa;
      const std::size_t full = w.cols() / int4_block * int4_block;
      if (xa.size() < 4) xa.resize(4);
      const auto& st = detail::scale_table(w);
      const detail::Q8Constants<Arch, Format> k(w);
      for (std::size_t b0 = 0; b0 < batch; b0 += 4) {
        const std::size_t nb = std::min<std::size_t>(4, batch - b0);
        for (std::size_t b = 0; b < nb; ++b)
          xa[b].quantize<Format::group>(x + (b0 + b) * ldx, full);
        run_tile(nb, w, st, k, xa.data(), x + b0 * ldx, ldx, y + b0 * ldy, ldy);
      }
      return;
    }
#endif
    for (std::size_t b = 0; b < batch; ++b) GemvInt4Q8{}(arch, w, x + b * ldx, y + b * ldy);
  }

 private:
#if PARE_INT4_VNNI
  template <std::size_t Rows, std::size_t Batch, std::size_t PrefetchBytes = 0, class Format>
  static void run_rows(const Int4Matrix<Format>& w, const std::array<float, 256>& st,
                       const detail::Q8Constants<xsimd::avx512bw, Format>& k,
                       const QuantizedActivations* xa, const float* x, std::size_t ldx, float* y,
                       std::size_t ldy) noexcept {
    const std::size_t block_rows_end =
        w.rows() / Int4Matrix<Format>::row_block * Int4Matrix<Format>::row_block;
    std::size_t r = 0;
    for (; r + Rows <= block_rows_end; r += Rows)
      detail::int4_q8_rows<xsimd::avx512bw, Rows, Batch, PrefetchBytes>(w, st, k, xa, r, x, ldx,
                                                                        y + r, ldy);
    for (; r < w.rows(); ++r)
      detail::int4_q8_rows<xsimd::avx512bw, 1, Batch, 0>(w, st, k, xa, r, x, ldx, y + r, ldy);
  }
  template <class Format>
  static void run_tile(std::size_t nb, const Int4Matrix<Format>& w,
                       const std::array<float, 256>& st,
                       const detail::Q8Constants<xsimd::avx512bw, Format>& k,
                       const QuantizedActivations* xa, const float* x, std::size_t ldx, float* y,
                       std::size_t ldy) noexcept {
    switch (nb) {
      case 1:  // GemvInt4Q8's kernel
        return run_rows<8, 1, 1024>(w, st, k, xa, x, ldx, y, ldy);
      case 2:
        return run_rows<8, 2>(w, st, k, xa, x, ldx, y, ldy);
      case 3:
        return run_rows<4, 3>(w, st, k, xa, x, ldx, y, ldy);
      default:
        return run_rows<4, 4>(w, st, k, xa, x, ldx, y, ldy);
    }
  }
#endif
};

}  // namespace pare::kernels

namespace pare {

/// y = W x for a 4-bit block matrix W [rows, cols], x [cols], y [rows]: dequantization fused into
/// the product (kernels::gemv_int4_q8: x rounded to int8 per group on AVX2 and AVX-512, integer
/// dot products, f32 elsewhere; rows split over pare's threads, bit-identical for any count).
/// Strided x or y go through a contiguous copy.
/// @pre y does not overlap x. Shapes must agree (else ShapeError naming all three).
/// ```
/// auto q = pare::pack_int4_blocks<pare::Codebook4Log<16>>(w.view());
/// pare::gemv(q, x.view(), y.view());
/// ```
template <class Format>
inline void gemv(const Int4Matrix<Format>& w, TensorView<const float, 1> x,
                 TensorView<float, 1> y) {
  PARE_CHECK(w.cols() == x.extent(0) && w.rows() == y.extent(0), ShapeError, "gemv: W [", w.rows(),
             ", ", w.cols(), "] (int4) x ", to_string(x.extents()), " -> y ",
             to_string(y.extents()));
  const Tensor<float, 1> xc = x.is_contiguous() ? Tensor<float, 1>() : Tensor<float, 1>(x);
  const float* xp = x.is_contiguous() ? x.data() : xc.data();
  if (y.is_contiguous()) {
    kernels::gemv_int4_q8(w, xp, y.data());
    return;
  }
  Tensor<float, 1> yc({y.extent(0)});
  kernels::gemv_int4_q8(w, xp, yc.data());
  for (std::size_t r = 0; r < y.extent(0); ++r) y[r] = yc(r);
}

/// Y = X W^T for a small batch of activations X [batch, cols] (rows of X are the vectors) and a
/// 4-bit block matrix W [rows, cols], Y [batch, rows]: in a build for AVX-512 VNNI (on that
/// tier) kernels::GemmInt4Q8, which decodes each block of W once for up to 4 vectors, on one
/// thread; otherwise the dispatched, threaded GEMV per vector. Rows of X and Y may be strided
/// (inner stride 1); other layouts go through a contiguous copy.
/// @pre y does not overlap x. Shapes must agree (else ShapeError naming all three).
/// ```
/// pare::gemm_int4(q, x.view(), y.view());  // x [4, 4096], q [11008, 4096], y [4, 11008]
/// ```
template <class Format>
inline void gemm_int4(const Int4Matrix<Format>& w, TensorView<const float, 2> x,
                      TensorView<float, 2> y) {
  PARE_CHECK(w.cols() == x.extent(1) && w.rows() == y.extent(1) && x.extent(0) == y.extent(0),
             ShapeError, "gemm_int4: X ", to_string(x.extents()), " x W^T, W [", w.rows(), ", ",
             w.cols(), "] (int4) -> Y ", to_string(y.extents()));
  // Rows of X (and Y) reachable with a non-negative row stride and unit inner stride.
  const bool x_rows = x.stride(1) == 1 && x.stride(0) >= 0,
             y_rows = y.stride(1) == 1 && y.stride(0) >= 0;
  const Tensor<float, 2> xc = x_rows ? Tensor<float, 2>() : Tensor<float, 2>(x);
  const float* xp = x_rows ? x.data() : xc.data();
  const std::size_t ldx = x_rows ? static_cast<std::size_t>(x.stride(0)) : x.extent(1);
  Tensor<float, 2> yc = y_rows ? Tensor<float, 2>() : Tensor<float, 2>(y.extents());
  float* yp = y_rows ? y.data() : yc.data();
  const std::size_t ldy = y_rows ? static_cast<std::size_t>(y.stride(0)) : y.extent(1);
  // The tiled kernel (each decoded block serves up to 4 vectors) exists only in a build for
  // AVX-512 VNNI and runs on one thread; elsewhere, and when the tier is capped below AVX-512,
  // each vector runs the dispatched, threaded GEMV (a default-flags build reaches AVX2/AVX-512
  // through it instead of the baseline arch of the build flags).
  bool tiled = false;
#if PARE_INT4_VNNI
  tiled = simd::active_tier() == simd::Tier::avx512;
#endif
  if (tiled)
    kernels::GemmInt4Q8{}(xsimd::default_arch{}, w, xp, x.extent(0), ldx, yp, ldy);
  else
    for (std::size_t b = 0; b < x.extent(0); ++b)
      kernels::gemv_int4_q8(w, xp + b * ldx, yp + b * ldy);
  if (!y_rows)
    for (std::size_t b = 0; b < y.extent(0); ++b)
      for (std::size_t r = 0; r < y.extent(1); ++r) y(b, r) = yc(b, r);
}

}  // namespace pare

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
