// SPDX-License-Identifier: Apache-2.0
// pare — 4-bit weight-only GEMV y = W x with fused dequantization (W an Int4Matrix, x and y f32).
//
// A 4096x4096 Q4G16 matrix is 9 MiB against 64 MiB in f32, so the kernel must decode as fast as
// memory delivers. Two kernels:
//   GemvInt4     f32 all the way: codes decode to f32 through the codebook in one register
//                (AVX-512 `vpermps`, 16 codes per instruction), FMA with x, scale per group.
//                Exact up to f32 rounding; ~4 vector instructions per 16 weights.
//   GemvInt4Q8   x is first quantized to int8 per weight group (once per call, shared by all
//                rows); codes decode to int8 with `vpshufb` (64 per instruction) and multiply with
//                AVX-512 VNNI `vpdpbusd` (64 products per instruction): ~3x fewer instructions per
//                weight (~11 per 128 weights and row). Adds x's rounding error: at most half an
//                int8 step of x per weight (0.4 % of the group's largest |x|), far below the
//                4-bit weight error.
// pare::gemv(Int4Matrix, x, y) uses GemvInt4Q8 where the CPU has VNNI; docs/performance.md has the
// measurements behind the choice. Without AVX-512 (AVX2, SSE2, other ISAs) both kernels decode
// a group through a scalar table and multiply with the arch's xsimd FMA: correct, not yet fast.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "pare/core/error.hpp"
#include "pare/core/tensor.hpp"
#include "pare/quant/int4_block.hpp"
#include "pare/simd/arch.hpp"

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

/// Every scale code decoded: 256 floats, built once per call (cheaper than one row).
template <class Format>
inline std::array<float, 256> scale_table(const Int4Matrix<Format>& w) noexcept {
  std::array<float, 256> t{};
  for (unsigned s = 0; s < 256; ++s) t[s] = w.decode_scale(static_cast<std::uint8_t>(s));
  return t;
}

/// sum_{c in [c0, c1)} value(r, c) x[c] in f32 through the scale table: tails and the portable
/// path.
template <class Format>
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
        // These 16 floats are one group (G = 32: group j) or two (G = 16: 2j, then 2j + 1).
        const __m512 sv = G == 32 ? _mm512_set1_ps(st[sr[j]])
                                  : _mm512_insertf32x8(_mm512_set1_ps(st[sr[2 * j]]),
                                                       _mm256_set1_ps(st[sr[2 * j + 1]]), 1);
        acc[r] = _mm512_fmadd_ps(part, sv, acc[r]);
      }
    }
  }
  for (std::size_t r = 0; r < Rows; ++r)
    y[r] = _mm512_reduce_add_ps(acc[r]) + dot_int4_scalar(w, st, r0 + r, full, cols, x);
}
#endif

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
    const auto st = detail::scale_table(w);
    const std::size_t rows = w.rows(), cols = w.cols();
    std::size_t r = 0;
#if PARE_INT4_AVX512
    if constexpr (std::is_same_v<Arch, xsimd::avx512bw>) {
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
    if constexpr (!std::is_same_v<Arch, xsimd::unavailable>) {
      // Portable: decode a group to floats, FMA in batches of the arch.
      using B = xsimd::batch<float, Arch>;
      constexpr std::size_t G = Format::group;
      static_assert(G % B::size == 0, "a group must be whole batches");
      alignas(64) float wf[G];
      const auto& cb = Format::levels();
      for (; r < rows; ++r) {
        B acc(0.0f);
        for (std::size_t g0 = 0; g0 < cols; g0 += G) {
          for (std::size_t i = 0; i < G; ++i) wf[i] = static_cast<float>(cb[w.code(r, g0 + i)]);
          B part(0.0f);
          for (std::size_t i = 0; i < G; i += B::size)
            part = xsimd::fma(B::load_aligned(wf + i), B::load_unaligned(x + g0 + i), part);
          acc = xsimd::fma(part, B(st[w.scale_codes()[w.scale_index(r, g0 / G)]]), acc);
        }
        y[r] = xsimd::hadd(acc);
      }
    } else {
      for (; r < rows; ++r) y[r] = detail::dot_int4_scalar(w, st, r, 0, cols, x);
    }
  }
};

/// GemvInt4 with 4 rows per block.
struct GemvInt4 {
  template <class Arch, class Format>
  void operator()(Arch arch, const Int4Matrix<Format>& w, const float* x, float* y) const noexcept {
    GemvInt4Tuned<4>{}(arch, w, x, y);
  }
};

/// x quantized to int8 for GemvInt4Q8, in blocks the size of the weight groups (16 or 32): codes,
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
    scale.resize(n / block);
    bias.resize(n / block);
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

#if PARE_INT4_VNNI
/// 16 scale codes (fewer when `count` < 16; the rest read as code 0) decoded to floats:
/// table[s & 15] * (s & 0x80 ? -1 : 1) * 2^(-2 * ((s >> 4) & 7)), two 16-entry lookups (`vpermps`
/// reads the low 4 bits of each index) and a product, exact since the second factor is +-2^-2k.
inline __m512 decode_scales16(const std::uint8_t* p, unsigned count, __m512 frac,
                              __m512 octave) noexcept {
  const __mmask16 m = count >= 16 ? __mmask16(0xFFFF) : static_cast<__mmask16>((1u << count) - 1);
  const __m512i c = _mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(m, p));
  return _mm512_mul_ps(_mm512_permutexvar_ps(c, frac),
                       _mm512_permutexvar_ps(_mm512_srli_epi32(c, 4), octave));
}

template <std::size_t Rows, std::size_t PrefetchBlocks, class Format>
inline void gemv_int4_q8_rows(const Int4Matrix<Format>& w, const std::array<float, 256>& st,
                              const QuantizedActivations& xa, std::size_t r0, const float* x,
                              float* y) noexcept {
  constexpr std::size_t G = Format::group;
  constexpr std::size_t chunk = 16 * G;  // weights per 16 decoded scales
  const std::size_t cols = w.cols(), ld = cols / 2, full = cols / int4_block * int4_block;
  alignas(64) std::uint8_t lut[64];
  for (std::size_t i = 0; i < 64; ++i)
    lut[i] = static_cast<std::uint8_t>(Format::levels()[i % 16] + 128);
  const __m512i table = _mm512_load_si512(lut);
  const __m512 frac = _mm512_loadu_ps(w.scale_fractions().data());
  alignas(64) float oct[16];
  for (int i = 0; i < 16; ++i) oct[i] = std::ldexp((i & 8) != 0 ? -1.0f : 1.0f, -2 * (i & 7));
  const __m512 octave = _mm512_load_ps(oct);
  const __m512i nib = _mm512_set1_epi8(0x0F);
  // Rows r0.. share a row block (Rows divides 8, r0 % Rows == 0): one sequential stream of codes.
  const std::uint8_t* q = w.block_codes(r0, 0);
  const std::size_t stride = w.block_stride(r0);
  __m512 acc[Rows];
  for (auto& a : acc) a = _mm512_setzero_ps();
  // Lane l of block k of a chunk holds group 128 k / G + l / (16 G / 128), in both halves.
  const __m512i lane = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
  const __m512i lane_group = _mm512_srli_epi32(lane, G == 16 ? 1 : 2);
  for (std::size_t c0 = 0; c0 < full; c0 += chunk) {
    const std::size_t c1 = std::min(full, c0 + chunk);
    const auto n = static_cast<unsigned>((c1 - c0) / G);
    const __mmask16 m = n >= 16 ? __mmask16(0xFFFF) : static_cast<__mmask16>((1u << n) - 1);
    // Per group: weight scale * x scale, applied per lane; the bias correction once per group.
    const __m512 xs = _mm512_maskz_loadu_ps(m, xa.scale.data() + c0 / G);
    const __m512 xb = _mm512_maskz_loadu_ps(m, xa.bias.data() + c0 / G);
    __m512 sc[Rows];
    for (std::size_t r = 0; r < Rows; ++r) {
      const std::uint8_t* sp = w.scale_codes() + w.scale_index(r0 + r, c0 / G);
      if constexpr (PrefetchBlocks > 0)
        __builtin_prefetch(sp + PrefetchBlocks * Rows * (cols / G), 0, 3);
      const __m512 ws = decode_scales16(sp, n, frac, octave);
      acc[r] = _mm512_fmadd_ps(ws, xb, acc[r]);
      sc[r] = _mm512_mul_ps(ws, xs);
    }
    for (std::size_t c = c0; c < c1; c += int4_block) {
      const __m512i xlo = _mm512_loadu_si512(xa.codes.data() + c),
                    xhi = _mm512_loadu_si512(xa.codes.data() + c + 64);
      const __m512i gi =
          _mm512_add_epi32(lane_group, _mm512_set1_epi32(static_cast<int>((c - c0) / G)));
      for (std::size_t r = 0; r < Rows; ++r) {
        if constexpr (PrefetchBlocks > 0)  // past the end of W is harmless: prefetches never fault
          __builtin_prefetch(q + PrefetchBlocks * Rows * ld + (c / int4_block) * stride + r * 64, 0,
                             3);
        const __m512i v = _mm512_loadu_si512(q + (c / int4_block) * stride + r * 64);
        const __m512i wlo = _mm512_shuffle_epi8(table, _mm512_and_si512(v, nib));
        const __m512i whi =
            _mm512_shuffle_epi8(table, _mm512_and_si512(_mm512_srli_epi16(v, 4), nib));
        // Both halves' lanes hold the same groups: sum them in int32, scale each lane once.
        const __m512i d =
            _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), wlo, xlo), whi, xhi);
        acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(d), _mm512_permutexvar_ps(gi, sc[r]), acc[r]);
      }
    }
  }
  for (std::size_t r = 0; r < Rows; ++r)
    y[r] = _mm512_reduce_add_ps(acc[r]) + dot_int4_scalar(w, st, r0 + r, full, cols, x);
}
#endif

}  // namespace detail

/// y = W x with x quantized to int8 per weight group (see the file comment): AVX-512 VNNI,
/// `BlockRows` rows at a time; each row's codes and scales are software-prefetched `PrefetchBlocks`
/// row blocks ahead (same columns, PrefetchBlocks * BlockRows rows further on; 0: none), streams
/// the hardware prefetcher does not see coming; on other archs it is GemvInt4 (f32). The last
/// partial 128-weight block of a row, if any, is computed in f32 with the exact x. Error: the f32
/// kernel's, plus sum_c |w_rc| * d_b(c) / 2 for x's rounding (d_b = the largest |x| of c's group /
/// 127).
/// @pre y does not overlap x.
template <std::size_t BlockRows, std::size_t PrefetchBlocks = 0>
struct GemvInt4Q8Tuned {
  static_assert(8 % BlockRows == 0,
                "GemvInt4Q8Tuned<BlockRows> needs BlockRows to divide 8, the layout's row block");
  template <class Arch, class Format>
  void operator()(Arch arch, const Int4Matrix<Format>& w, const float* x, float* y) const noexcept {
#if PARE_INT4_VNNI
    if constexpr (std::is_same_v<Arch, xsimd::avx512bw>) {
      thread_local QuantizedActivations xa;
      const std::size_t full = w.cols() / int4_block * int4_block;
      xa.quantize<Format::group>(x, full);
      // The f32 tail (a last partial 128-block) decodes scales through a table.
      const auto st = full < w.cols() ? detail::scale_table(w) : std::array<float, 256>{};
      std::size_t r = 0;
      // Whole row blocks BlockRows rows at a time; the last, shorter row block row by row.
      const std::size_t block_rows_end =
          w.rows() / Int4Matrix<Format>::row_block * Int4Matrix<Format>::row_block;
      for (; r + BlockRows <= block_rows_end; r += BlockRows)
        detail::gemv_int4_q8_rows<BlockRows, PrefetchBlocks>(w, st, xa, r, x, y + r);
      for (; r < w.rows(); ++r) detail::gemv_int4_q8_rows<1, 0>(w, st, xa, r, x, y + r);
      return;
    }
#endif
    GemvInt4{}(arch, w, x, y);
  }
};

/// The int4 GEMV kernel: 8 rows per block (one interleaved row block of the layout), no software
/// prefetch. On Zen 4 (docs/performance.md, "4-bit weight-only GEMV"): 8 rows beat 4 (x's codes
/// and scales load once per 8 rows); with rows interleaved by 8 the kernel reads one sequential
/// code stream, and prefetching the next row block, which gained 12-80 % when each row was its own
/// short stream, lost 25-32 % cold.
struct GemvInt4Q8 {
  template <class Arch, class Format>
  void operator()(Arch arch, const Int4Matrix<Format>& w, const float* x, float* y) const noexcept {
    GemvInt4Q8Tuned<8, 0>{}(arch, w, x, y);
  }
};

}  // namespace pare::kernels

namespace pare {

/// y = W x for a 4-bit block matrix W [rows, cols], x [cols], y [rows]: dequantization fused into
/// the product (kernels::GemvInt4Q8: x rounded to int8 per group where the CPU has AVX-512 VNNI,
/// else kernels::GemvInt4 in f32). Strided x or y go through a contiguous copy.
/// @pre y does not overlap x. Shapes must agree (else ShapeError naming all three).
/// ```
/// auto q = pare::pack_int4_blocks<pare::Q4G16>(w.view());
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
    kernels::GemvInt4Q8{}(xsimd::default_arch{}, w, xp, y.data());
    return;
  }
  Tensor<float, 1> yc({y.extent(0)});
  kernels::GemvInt4Q8{}(xsimd::default_arch{}, w, xp, yc.data());
  for (std::size_t r = 0; r < y.extent(0); ++r) y[r] = yc(r);
}

}  // namespace pare
