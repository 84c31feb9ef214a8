// SPDX-License-Identifier: Apache-2.0
// pare — vectorized quantize / dequantize / pack kernels for integer formats (8, 4 and 2 bits).
//
//   auto q  = pare::quantize_minmax<pare::Int<4>, pare::Symmetric, pare::PerGroup<128>>(w);
//   auto wd = pare::dequantize_fast(q);
//
// quantize_minmax gives the same QuantizedTensor, bit for bit, as
// Quantizer<F, S, G, MinMax>{}.quantize(w) (round to nearest with min-max ranges), at memory speed:
// per unit (tensor, row or group) one pass for the range, then one pass that scales, rounds
// (half to even, as quantize_value), clamps and packs. dequantize_fast equals pare::dequantize.
// The building blocks, each with a scalar reference that tests compare them with:
//   QuantizeCodes    x[0, n) -> codes packed `bits` wide (element 0 in the low bits), given the
//                    reciprocal scale, zero point and code range.
//   DequantizeCodes  packed codes -> (code - zero_point) * scale.
//   MinMaxOf         the NaN-ignoring [min, max] of x[0, n) (MinMax observer's range).
// AVX-512: 16 floats per step, `vpmovdb` to bytes, nibble / crumb packing in registers. AVX2:
// rounding and clamping 8 floats per step, packing through a small buffer. Other archs: scalar.
// Why not in quant/quantizer.hpp: quant/ sits below kernels/ in the layering (docs/design.md), so
// the Quantizer keeps its scalar loop and this header offers the fast path beside it.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>
#include <vector>

#include "pare/core/error.hpp"
#include "pare/core/parallel.hpp"
#include "pare/core/tensor.hpp"
#include "pare/quant/format.hpp"
#include "pare/quant/granularity.hpp"
#include "pare/quant/observer.hpp"
#include "pare/quant/quantized_tensor.hpp"
#include "pare/quant/quantizer.hpp"
#include "pare/quant/scheme.hpp"
#include "pare/simd/arch.hpp"

#if PARE_SIMD_X86
#include <immintrin.h>
#endif

#if PARE_SIMD_X86 && defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__)
#define PARE_QUANTIZE_AVX512 1
#else
#define PARE_QUANTIZE_AVX512 0
#endif
#if PARE_SIMD_X86 && defined(__AVX2__)
#define PARE_QUANTIZE_AVX2 1
#else
#define PARE_QUANTIZE_AVX2 0
#endif

namespace pare::kernels {

/// Scalar reference: the code of x[i] (quantize_value) packed `bits` wide (8, 4 or 2) into
/// out[i * bits / 8], element 0 in the low bits, two's complement for negative codes. A last
/// partial byte has its unused high lanes zero.
inline void quantize_codes_reference(const float* x, std::size_t n, float inv_scale,
                                     std::int32_t zero_point, CodeRange codes, int bits,
                                     std::uint8_t* out) noexcept {
  const std::size_t per_byte = static_cast<std::size_t>(8 / bits);
  const unsigned mask = (1u << bits) - 1;
  for (std::size_t i = 0; i < n; i += per_byte) {
    unsigned b = 0;
    for (std::size_t l = 0; l < per_byte && i + l < n; ++l)
      b |= (static_cast<unsigned>(quantize_value(x[i + l], inv_scale, zero_point, codes)) & mask)
           << (static_cast<unsigned>(bits) * l);
    out[i / per_byte] = static_cast<std::uint8_t>(b);
  }
}

/// Scalar reference: y[i] = (code_i - zero_point) * scale for n codes packed `bits` wide
/// (dequantize_value), sign-extended when `is_signed`.
inline void dequantize_codes_reference(const std::uint8_t* in, std::size_t n, int bits,
                                       bool is_signed, QuantParams p, float* y) noexcept {
  const std::size_t per_byte = static_cast<std::size_t>(8 / bits);
  const unsigned mask = (1u << bits) - 1, sign = 1u << (bits - 1);
  for (std::size_t i = 0; i < n; ++i) {
    const unsigned u = (static_cast<unsigned>(in[i / per_byte]) >>
                        (static_cast<unsigned>(bits) * (i % per_byte))) &
                       mask;
    const std::int32_t code =
        is_signed ? static_cast<std::int32_t>(u ^ sign) - static_cast<std::int32_t>(sign)
                  : static_cast<std::int32_t>(u);
    y[i] = dequantize_value(code, p);
  }
}

/// Scalar reference: [min, max] of the non-NaN values of x[0, n) (empty Range when none).
inline Range min_max_reference(const float* x, std::size_t n) noexcept {
  Range r;
  for (std::size_t i = 0; i < n; ++i) {
    if (std::isnan(x[i])) continue;
    r.lo = std::min(r.lo, x[i]);
    r.hi = std::max(r.hi, x[i]);
  }
  return r;
}

namespace detail {

#if PARE_QUANTIZE_AVX512
/// 16 codes as int32: clamp(round_half_even(x * inv) + zp, lo, hi), NaN -> zp (quantize_value).
inline __m512i quantize16_avx512(__m512 x, __m512 inv, __m512 zp, __m512 lo, __m512 hi) noexcept {
  __m512 v = _mm512_add_ps(
      _mm512_roundscale_ps(_mm512_mul_ps(x, inv), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC),
      zp);
  const __mmask16 nan = _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
  v = _mm512_mask_mov_ps(_mm512_min_ps(_mm512_max_ps(v, lo), hi), nan, zp);
  return _mm512_cvttps_epi32(v);
}
#endif

}  // namespace detail

/// x[0, n) -> codes packed `bits` wide (see quantize_codes_reference, whose bytes it reproduces).
/// @pre bits is 8, 4 or 2; out holds (n * bits + 7) / 8 bytes.
struct QuantizeCodes {
  template <class Arch>
  void operator()(Arch, const float* x, std::size_t n, float inv_scale, std::int32_t zero_point,
                  CodeRange codes, int bits, std::uint8_t* out) const noexcept {
    std::size_t done = 0;
#if PARE_QUANTIZE_AVX512
    if constexpr (std::is_same_v<Arch, xsimd::avx512bw>) {
      const __m512 inv = _mm512_set1_ps(inv_scale),
                   zp = _mm512_set1_ps(static_cast<float>(zero_point)),
                   lo = _mm512_set1_ps(static_cast<float>(codes.qmin)),
                   hi = _mm512_set1_ps(static_cast<float>(codes.qmax));
      const auto q16 = [&](const float* p) {
        return detail::quantize16_avx512(_mm512_loadu_ps(p), inv, zp, lo, hi);
      };
      if (bits == 8) {
        for (; done + 64 <= n; done += 64) {
          const __m512i a = q16(x + done), b = q16(x + done + 16), c = q16(x + done + 32),
                        d = q16(x + done + 48);
          __m512i v = _mm512_castsi128_si512(_mm512_cvtepi32_epi8(a));
          v = _mm512_inserti32x4(v, _mm512_cvtepi32_epi8(b), 1);
          v = _mm512_inserti32x4(v, _mm512_cvtepi32_epi8(c), 2);
          v = _mm512_inserti32x4(v, _mm512_cvtepi32_epi8(d), 3);
          _mm512_storeu_si512(out + done, v);
        }
        for (; done + 16 <= n; done += 16)
          _mm_storeu_si128(reinterpret_cast<__m128i*>(out + done),
                           _mm512_cvtepi32_epi8(q16(x + done)));
      } else if (bits == 4) {
        const __m256i nib = _mm256_set1_epi8(0x0F);
        for (; done + 32 <= n; done += 32) {
          __m256i v = _mm256_castsi128_si256(_mm512_cvtepi32_epi8(q16(x + done)));
          v = _mm256_inserti128_si256(v, _mm512_cvtepi32_epi8(q16(x + done + 16)), 1);
          v = _mm256_and_si256(v, nib);
          // Each 16-bit lane holds elements 2j (low byte) and 2j + 1: fold the high into bits 4-7.
          v = _mm256_or_si256(v, _mm256_srli_epi16(v, 4));
          _mm_storeu_si128(reinterpret_cast<__m128i*>(out + done / 2), _mm256_cvtepi16_epi8(v));
        }
      } else {
        const __m512i crumb = _mm512_set1_epi8(0x03);
        // b0 | b1 << 8 | b2 << 16 | b3 << 24 times this puts b0 | b1 << 2 | b2 << 4 | b3 << 6 at
        // bits 18-25, with no carries from the other partial products.
        const __m512i gather = _mm512_set1_epi32((1 << 18) | (1 << 12) | (1 << 6) | 1);
        for (; done + 64 <= n; done += 64) {
          __m512i v = _mm512_castsi128_si512(_mm512_cvtepi32_epi8(q16(x + done)));
          v = _mm512_inserti32x4(v, _mm512_cvtepi32_epi8(q16(x + done + 16)), 1);
          v = _mm512_inserti32x4(v, _mm512_cvtepi32_epi8(q16(x + done + 32)), 2);
          v = _mm512_inserti32x4(v, _mm512_cvtepi32_epi8(q16(x + done + 48)), 3);
          v = _mm512_srli_epi32(_mm512_mullo_epi32(_mm512_and_si512(v, crumb), gather), 18);
          _mm_storeu_si128(reinterpret_cast<__m128i*>(out + done / 4), _mm512_cvtepi32_epi8(v));
        }
      }
    }
#endif
#if PARE_QUANTIZE_AVX2
    if constexpr (std::is_same_v<Arch, xsimd::fma3<xsimd::avx2>>) {
      const __m256 inv = _mm256_set1_ps(inv_scale),
                   zp = _mm256_set1_ps(static_cast<float>(zero_point)),
                   lo = _mm256_set1_ps(static_cast<float>(codes.qmin)),
                   hi = _mm256_set1_ps(static_cast<float>(codes.qmax));
      const std::size_t per_byte = static_cast<std::size_t>(8 / bits);
      const unsigned mask = (1u << bits) - 1;
      alignas(32) std::int32_t c[32];
      for (; done + 32 <= n; done += 32) {
        for (std::size_t j = 0; j < 32; j += 8) {
          __m256 v =
              _mm256_add_ps(_mm256_round_ps(_mm256_mul_ps(_mm256_loadu_ps(x + done + j), inv),
                                            _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC),
                            zp);
          const __m256 nan = _mm256_cmp_ps(v, v, _CMP_UNORD_Q);
          v = _mm256_blendv_ps(_mm256_min_ps(_mm256_max_ps(v, lo), hi), zp, nan);
          _mm256_store_si256(reinterpret_cast<__m256i*>(c + j), _mm256_cvttps_epi32(v));
        }
        for (std::size_t i = 0; i < 32; i += per_byte) {
          unsigned b = 0;
          for (std::size_t l = 0; l < per_byte; ++l)
            b |= (static_cast<unsigned>(c[i + l]) & mask) << (static_cast<unsigned>(bits) * l);
          out[(done + i) / per_byte] = static_cast<std::uint8_t>(b);
        }
      }
    }
#endif
    // The tail (and other archs): done is a multiple of every per-byte count.
    quantize_codes_reference(x + done, n - done, inv_scale, zero_point, codes, bits,
                             out + done * static_cast<std::size_t>(bits) / 8);
  }
};

/// Packed codes -> (code - zero_point) * scale (see dequantize_codes_reference, which it matches
/// exactly). @pre bits is 8, 4 or 2.
struct DequantizeCodes {
  template <class Arch>
  void operator()(Arch, const std::uint8_t* in, std::size_t n, int bits, bool is_signed,
                  QuantParams p, float* y) const noexcept {
    std::size_t done = 0;
#if PARE_QUANTIZE_AVX512
    if constexpr (std::is_same_v<Arch, xsimd::avx512bw>) {
      // 16 codes are bits / 2 dwords: lane i reads dword i / (32 / bits), shifted right by
      // bits * (i % (32 / bits)).
      alignas(64) std::int32_t idx[16], sh[16];
      const int per_word = 32 / bits;
      for (int i = 0; i < 16; ++i) {
        idx[i] = i / per_word;
        sh[i] = bits * (i % per_word);
      }
      const __m512i vidx = _mm512_load_si512(idx), vsh = _mm512_load_si512(sh);
      const __m512i mask = _mm512_set1_epi32((1 << bits) - 1);
      const __m512i sign = _mm512_set1_epi32(is_signed ? 1 << (bits - 1) : 0);
      const __m512i zp = _mm512_set1_epi32(p.zero_point);
      const __m512 scale = _mm512_set1_ps(p.scale);
      // 16 codes are 2 * bits bytes; an 8-byte load needs 32 codes left when bits = 2.
      const std::size_t need = bits == 2 ? 32 : 16;
      for (; done + need <= n; done += 16) {
        const std::uint8_t* b = in + done * static_cast<std::size_t>(bits) / 8;
        const __m128i raw =
            bits == 8 ? _mm_loadu_si128(reinterpret_cast<const __m128i*>(b)) : _mm_loadu_si64(b);
        __m512i v = _mm512_permutexvar_epi32(vidx, _mm512_castsi128_si512(raw));
        v = _mm512_and_si512(_mm512_srlv_epi32(v, vsh), mask);
        v = _mm512_sub_epi32(_mm512_xor_si512(v, sign), sign);  // sign-extend (no-op if unsigned)
        _mm512_storeu_ps(y + done,
                         _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(v, zp)), scale));
      }
    }
#endif
#if PARE_QUANTIZE_AVX2
    if constexpr (std::is_same_v<Arch, xsimd::fma3<xsimd::avx2>>) {
      // 8 codes are bits / 4 dwords (bits = 2: half a dword).
      alignas(32) std::int32_t idx[8], sh[8];
      const int per_word = 32 / bits;
      for (int i = 0; i < 8; ++i) {
        idx[i] = i / per_word;
        sh[i] = bits * (i % per_word);
      }
      const __m256i vidx = _mm256_load_si256(reinterpret_cast<const __m256i*>(idx)),
                    vsh = _mm256_load_si256(reinterpret_cast<const __m256i*>(sh));
      const __m256i mask = _mm256_set1_epi32((1 << bits) - 1);
      const __m256i sign = _mm256_set1_epi32(is_signed ? 1 << (bits - 1) : 0);
      const __m256i zp = _mm256_set1_epi32(p.zero_point);
      const __m256 scale = _mm256_set1_ps(p.scale);
      for (; done + 32 <= n; done += 8) {  // +32: 8 bytes read from a 2-byte step stay inside
        std::int64_t word;
        std::memcpy(&word, in + done * static_cast<std::size_t>(bits) / 8, sizeof word);
        __m256i v =
            _mm256_permutevar8x32_epi32(_mm256_castsi128_si256(_mm_cvtsi64_si128(word)), vidx);
        v = _mm256_and_si256(_mm256_srlv_epi32(v, vsh), mask);
        v = _mm256_sub_epi32(_mm256_xor_si256(v, sign), sign);
        _mm256_storeu_ps(y + done,
                         _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(v, zp)), scale));
      }
    }
#endif
    dequantize_codes_reference(in + done * static_cast<std::size_t>(bits) / 8, n - done, bits,
                               is_signed, p, y + done);
  }
};

/// The NaN-ignoring [min, max] of x[0, n) (see min_max_reference).
struct MinMaxOf {
  template <class Arch>
  Range operator()(Arch, const float* x, std::size_t n) const noexcept {
    std::size_t done = 0;
    Range r;
#if PARE_QUANTIZE_AVX512
    if constexpr (std::is_same_v<Arch, xsimd::avx512bw>) {
      // min/max return the second operand when either is NaN: NaNs in x leave the accumulators.
      __m512 lo[2] = {_mm512_set1_ps(r.lo), _mm512_set1_ps(r.lo)};
      __m512 hi[2] = {_mm512_set1_ps(r.hi), _mm512_set1_ps(r.hi)};
      for (; done + 32 <= n; done += 32)
        for (std::size_t j = 0; j < 2; ++j) {
          const __m512 v = _mm512_loadu_ps(x + done + 16 * j);
          lo[j] = _mm512_min_ps(v, lo[j]);
          hi[j] = _mm512_max_ps(v, hi[j]);
        }
      r.lo = _mm512_reduce_min_ps(_mm512_min_ps(lo[0], lo[1]));
      r.hi = _mm512_reduce_max_ps(_mm512_max_ps(hi[0], hi[1]));
    }
#endif
#if PARE_QUANTIZE_AVX2
    if constexpr (std::is_same_v<Arch, xsimd::fma3<xsimd::avx2>>) {
      __m256 lo = _mm256_set1_ps(r.lo), hi = _mm256_set1_ps(r.hi);
      for (; done + 8 <= n; done += 8) {
        const __m256 v = _mm256_loadu_ps(x + done);
        lo = _mm256_min_ps(v, lo);
        hi = _mm256_max_ps(v, hi);
      }
      alignas(32) float l[8], h[8];
      _mm256_store_ps(l, lo);
      _mm256_store_ps(h, hi);
      for (int i = 0; i < 8; ++i) {
        r.lo = std::min(r.lo, l[i]);
        r.hi = std::max(r.hi, h[i]);
      }
    }
#endif
    const Range t = min_max_reference(x + done, n - done);
    return {std::min(r.lo, t.lo), std::max(r.hi, t.hi)};
  }
};

}  // namespace pare::kernels

namespace pare {

namespace detail {
template <class G>
inline constexpr bool fast_quantize_granularity = false;
template <>
inline constexpr bool fast_quantize_granularity<PerTensor> = true;
// Elements of a unit of PerGroup<N> (0 for the other granularities).
template <class G>
inline constexpr std::size_t group_size_of = 0;
template <std::size_t N>
inline constexpr std::size_t group_size_of<PerGroup<N>> = N;
// Floats one task of quantize_minmax / dequantize_fast takes at least (tens of µs).
inline constexpr std::size_t minmax_task_floats = std::size_t{1} << 16;
template <>
inline constexpr bool fast_quantize_granularity<PerChannel> = true;
template <std::size_t N>
inline constexpr bool fast_quantize_granularity<PerGroup<N>> = true;
}  // namespace detail

/// Round-to-nearest quantization with min-max ranges, vectorized: equal, bit for bit, to
/// `Quantizer<F, S, G, MinMax>{scheme, granularity}.quantize(w)`. G is PerTensor, PerChannel
/// (axis 0 or 1; axis 1 takes the Quantizer's scalar path) or PerGroup<N>; F has 8, 4 or 2 bits.
/// Throws ArgumentError for a shape the granularity rejects or a unit with a non-finite value.
template <QuantFormat F, QuantScheme S = Symmetric, Granularity G = PerChannel,
          class Arch = xsimd::default_arch>
[[nodiscard]] QuantizedTensor<F, G> quantize_minmax(TensorView<const float, 2> w, S scheme = {},
                                                    G granularity = {}, Arch arch = {}) {
  static_assert((F::bits == 8 || F::bits == 4 || F::bits == 2) &&
                    codes_per_byte<F> * static_cast<std::size_t>(F::bits) == 8,
                "quantize_minmax packs 8-, 4- and 2-bit codes stored 8 / bits to a byte");
  static_assert(detail::fast_quantize_granularity<G>,
                "quantize_minmax supports PerTensor, PerChannel and PerGroup<N>");
  granularity.check(w.extents());
  const Tensor<float, 2> wc =
      w.stride(1) == 1 && w.stride(0) >= 0 ? Tensor<float, 2>() : Tensor<float, 2>(w);
  const TensorView<const float, 2> v = wc.size() != 0 ? TensorView<const float, 2>(wc) : w;
  const std::size_t rows = v.extent(0), cols = v.extent(1);
  const auto row = [&](std::size_t r) {
    return v.data() + r * static_cast<std::size_t>(v.stride(0));
  };
  const CodeRange full = code_range_of<F>, codes = scheme.code_range(full);
  constexpr bool symmetric = scheme_is_symmetric<S>;
  QuantizedTensor<F, G> q(v.extents(), granularity, codes, symmetric);
  if constexpr (std::is_same_v<G, PerChannel>) {
    if (granularity.axis != 0)
      return Quantizer<F, S, G, MinMax>{scheme, granularity, {}}.quantize(v);
  }
  const auto params_of = [&](Range r, std::size_t unit) {
    PARE_CHECK(r.empty() || (std::isfinite(r.lo) && std::isfinite(r.hi)), ArgumentError,
               "quantize: unit ", unit, " of a matrix of shape ", to_string(v.extents()),
               " has a non-finite value (range [", r.lo, ", ", r.hi, "])");
    return scheme.params(r.empty() ? Range{0.0f, 0.0f} : r, full);
  };
  auto* out = reinterpret_cast<std::uint8_t*>(q.codes().data());
  const std::size_t ld = q.codes().extent(1);
  const std::size_t per_byte = static_cast<std::size_t>(8 / F::bits);
  const auto encode = [&](const float* x, std::size_t n, QuantParams p, std::uint8_t* o) {
    kernels::QuantizeCodes{}(arch, x, n, 1.0f / p.scale, p.zero_point, codes, F::bits, o);
  };
  // Rows in parallel, in two sweeps: the ranges (min and max are exact in any order), then, after
  // the parameters are checked in unit order on this thread (so an error names the same unit
  // whatever the thread count), the codes. Each row is computed whole by one task.
  const std::size_t grain = detail::minmax_task_floats / (cols > 0 ? cols : 1) + 1;
  if constexpr (std::is_same_v<G, PerTensor>) {
    std::vector<Range> ranges(rows);
    parallel_for(0, rows, grain, [&](std::size_t lo, std::size_t hi) {
      for (std::size_t i = lo; i < hi; ++i) ranges[i] = kernels::MinMaxOf{}(arch, row(i), cols);
    });
    Range r;
    for (const Range& t : ranges) r = {std::min(r.lo, t.lo), std::max(r.hi, t.hi)};
    const QuantParams p = params_of(r, 0);
    q.set_params(0, p);
    parallel_for(0, rows, grain, [&](std::size_t lo, std::size_t hi) {
      for (std::size_t i = lo; i < hi; ++i) encode(row(i), cols, p, out + i * ld);
    });
  } else {
    const std::size_t n = std::is_same_v<G, PerChannel> ? cols : detail::group_size_of<G>;
    const std::size_t groups = std::is_same_v<G, PerChannel> ? 1 : cols / n;
    std::vector<Range> ranges(rows * groups);
    parallel_for(0, rows, grain, [&](std::size_t lo, std::size_t hi) {
      for (std::size_t i = lo; i < hi; ++i)
        for (std::size_t g = 0; g < groups; ++g)
          ranges[i * groups + g] = kernels::MinMaxOf{}(arch, row(i) + g * n, n);
    });
    std::vector<QuantParams> params(rows * groups);
    for (std::size_t u = 0; u < params.size(); ++u) {
      params[u] = params_of(ranges[u], u);
      q.set_params(u, params[u]);
    }
    parallel_for(0, rows, grain, [&](std::size_t lo, std::size_t hi) {
      for (std::size_t i = lo; i < hi; ++i)
        for (std::size_t g = 0; g < groups; ++g)
          encode(row(i) + g * n, n, params[i * groups + g], out + i * ld + g * n / per_byte);
    });
  }
  return q;
}

/// The real-valued matrix a QuantizedTensor stands for, vectorized: equal to pare::dequantize(q).
template <QuantFormat F, Granularity G, class Arch = xsimd::default_arch>
[[nodiscard]] Tensor<float, 2> dequantize_fast(const QuantizedTensor<F, G>& q, Arch arch = {}) {
  static_assert((F::bits == 8 || F::bits == 4 || F::bits == 2) &&
                    codes_per_byte<F> * static_cast<std::size_t>(F::bits) == 8,
                "dequantize_fast unpacks 8-, 4- and 2-bit codes stored 8 / bits to a byte");
  if constexpr (!detail::fast_quantize_granularity<G>) {
    return dequantize(q);
  } else {
    Tensor<float, 2> out(q.shape());
    const std::size_t rows = q.rows(), cols = q.cols(), ld = q.codes().extent(1);
    const auto* in = reinterpret_cast<const std::uint8_t*>(q.codes().data());
    const std::size_t per_byte = static_cast<std::size_t>(8 / F::bits);
    const auto decode = [&](const std::uint8_t* b, std::size_t n, QuantParams p, float* y) {
      kernels::DequantizeCodes{}(arch, b, n, F::bits, F::is_signed, p, y);
    };
    if constexpr (std::is_same_v<G, PerChannel>) {
      if (q.granularity().axis != 0) return dequantize(q);
    }
    // Rows in parallel, each decoded whole by one task.
    parallel_for(0, rows, detail::minmax_task_floats / (cols > 0 ? cols : 1) + 1,
                 [&](std::size_t lo, std::size_t hi) {
                   for (std::size_t r = lo; r < hi; ++r) {
                     float* y = out.data() + r * cols;
                     if constexpr (std::is_same_v<G, PerTensor>) {
                       decode(in + r * ld, cols, q.params(0), y);
                     } else if constexpr (std::is_same_v<G, PerChannel>) {
                       decode(in + r * ld, cols, q.params(r), y);
                     } else {
                       constexpr std::size_t N = G::group_size;
                       for (std::size_t g = 0; g < cols / N; ++g)
                         decode(in + r * ld + g * N / per_byte, N, q.params(r * (cols / N) + g),
                                y + g * N);
                     }
                   }
                 });
    return out;
  }
}

}  // namespace pare
