// SPDX-License-Identifier: Apache-2.0
// pare — sparse matrix x dense vector, y = A x, for every sparse format: SIMD kernels
// (pare::kernels::Spmv, one function object for all formats), scalar references
// (pare::kernels::reference::spmv) and the checked wrapper pare::spmv.
//
// Like the dense GEMV these kernels are memory bound: the time is the bytes of A over the DRAM
// bandwidth, so the formats are built to store few bytes per kept weight (csr.hpp, nm.hpp) and
// the kernels only need to keep enough loads in flight. x is read by gathers (CSR, N:M with wide
// groups) or, for N:M with M <= 2N on AVX-512, by one two-register permute per 16 values (for
// 2:4 on AVX2, two in-lane permutes and a blend per 8), which is far cheaper than a gather.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "pare/core/error.hpp"
#include "pare/core/parallel.hpp"
#include "pare/core/tensor.hpp"
#include "pare/simd/arch.hpp"
#include "pare/simd/dispatch.hpp"
#include "pare/sparse/bitmap.hpp"
#include "pare/sparse/bsr.hpp"
#include "pare/sparse/csr.hpp"
#include "pare/sparse/detail/widen.hpp"
#include "pare/sparse/nm.hpp"

// GCC 12 reports the `__m512 __Y = __Y;` idiom inside _mm512_reduce_add_ps and
// _mm512_undefined_ps as uninitialized once inlined here (GCC bug 105593, fixed in GCC 13): a
// false positive, silenced for this header only (as in softmax.hpp).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace pare::kernels {

namespace reference {

/// y = A x with every row accumulated in double and rounded once (the test oracle).
template <class Index>
void spmv(const Csr<Index>& a, TensorView<const float, 1> x, TensorView<float, 1> y) noexcept {
  for (std::size_t r = 0; r < a.rows(); ++r) {
    double s = 0;
    for (std::size_t j = a.row_ptr()[r]; j < a.row_ptr()[r + 1]; ++j)
      s += static_cast<double>(a.values()[j]) * x[a.col()[j]];
    y[r] = static_cast<float>(s);
  }
}

template <class Index>
void spmv(const CsrInt8<Index>& a, TensorView<const float, 1> x, TensorView<float, 1> y) noexcept {
  for (std::size_t r = 0; r < a.rows(); ++r) {
    double s = 0;
    for (std::size_t j = a.row_ptr()[r]; j < a.row_ptr()[r + 1]; ++j)
      s += static_cast<double>(a.values()[j]) * x[a.col()[j]];
    y[r] = static_cast<float>(s * a.scales()[r]);
  }
}

template <std::size_t R, std::size_t C>
void spmv(const Bsr<R, C>& a, TensorView<const float, 1> x, TensorView<float, 1> y) noexcept {
  for (std::size_t r = 0; r < a.rows(); ++r) y[r] = 0.0f;
  // Rows are summed block by block; collect in double first so rounding happens once per row.
  for (std::size_t br = 0; br + 1 < a.block_ptr().size(); ++br) {
    std::array<double, R> s{};
    for (std::size_t b = a.block_ptr()[br]; b < a.block_ptr()[br + 1]; ++b)
      for (std::size_t i = 0; i < R; ++i)
        for (std::size_t j = 0; j < C && a.block_col()[b] * C + j < a.cols(); ++j)
          s[i] +=
              static_cast<double>(a.values()[(b * R + i) * C + j]) * x[a.block_col()[b] * C + j];
    for (std::size_t i = 0; i < R && br * R + i < a.rows(); ++i)
      y[br * R + i] = static_cast<float>(s[i]);
  }
}

template <std::size_t N, std::size_t M, class V>
void spmv(const PackedNM<N, M, V>& a, TensorView<const float, 1> x,
          TensorView<float, 1> y) noexcept {
  const std::size_t vpr = a.values_per_row();
  for (std::size_t r = 0; r < a.rows(); ++r) {
    double s = 0;
    for (std::size_t j = 0; j < vpr; ++j)
      s += static_cast<double>(a.values()[r * vpr + j]) * x[a.column(r, j)];
    if constexpr (PackedNM<N, M, V>::quantized) s *= a.scales()[r];
    y[r] = static_cast<float>(s);
  }
}

void spmv(const Bitmap& a, TensorView<const float, 1> x, TensorView<float, 1> y) noexcept;

}  // namespace reference

namespace detail {

/// Sum over [j, end) of val[j] * x[col[j]]: two batches of gathers in flight, scalar tail.
template <class Arch, class Value, class Index>
[[nodiscard]] inline float csr_row(const Value* val, const Index* col, std::size_t j,
                                   std::size_t end, const float* x) noexcept {
  using B = xsimd::batch<float, Arch>;
  constexpr std::size_t w = B::size;
  const auto load = [](const Value* v) {
    if constexpr (std::is_same_v<Value, float>)
      return B::load_unaligned(v);
    else
      return pare::detail::load_int8_as_float<Arch>(v);
  };
  B acc0(0.0f), acc1(0.0f);
  for (; j + 2 * w <= end; j += 2 * w) {
    acc0 = simd::fma(load(val + j),
                     pare::detail::gather<Arch>(x, pare::detail::load_index<Arch>(col + j)), acc0);
    acc1 =
        simd::fma(load(val + j + w),
                  pare::detail::gather<Arch>(x, pare::detail::load_index<Arch>(col + j + w)), acc1);
  }
  if (j + w <= end) {
    acc0 = simd::fma(load(val + j),
                     pare::detail::gather<Arch>(x, pare::detail::load_index<Arch>(col + j)), acc0);
    j += w;
  }
  float s = xsimd::hadd(acc0 + acc1);
  for (; j < end; ++j) s += static_cast<float>(val[j]) * x[col[j]];
  return s;
}

#if PARE_SIMD_X86 && defined(__AVX512BW__)
/// An unaligned 16-float load GCC cannot fold into the instruction that uses it: folded into
/// vexpandps it becomes the memory-source form, which Zen 4 runs microcoded, ~10x slower.
template <class Arch>
[[nodiscard]] inline __m512 load_opaque(const float* p) noexcept {
  __m512 v = _mm512_loadu_ps(p);
  __asm__("" : "+v"(v));
  return v;
}
#endif

/// Lane constants of the N:M decoder for a batch of W values starting at a multiple of W:
/// lane k holds value k, whose index sits `shift` bits into 32-bit word `word` of the batch's
/// index bits, and whose group starts `group_offset` columns after the batch's first group.
template <std::size_t W, std::size_t N, std::size_t M, std::size_t Bits>
struct NMLanes {
  alignas(64) std::array<std::int32_t, W> shift{}, word{}, group_offset{};
  constexpr NMLanes() {
    for (std::size_t k = 0; k < W; ++k) {
      shift[k] = static_cast<std::int32_t>(k * Bits % 32);
      word[k] = static_cast<std::int32_t>(k * Bits / 32);
      group_offset[k] = static_cast<std::int32_t>(k / N * M);
    }
  }
};

/// How far ahead of its value loads the 2:4 f32 N:M kernel prefetches. The row-at-a-time
/// value stream alone left the hardware prefetcher short of DRAM bandwidth: on Zen 5 (AVX2 tier,
/// 4096x4096 cold) 8 KiB ahead took the product from ~1.5-1.7 ms to ~1.1 ms; 2 KiB helped little
/// and 12-32 KiB no more than 8.
inline constexpr std::size_t nm_prefetch_bytes = 8192;

}  // namespace detail

/// The SIMD sparse x vector kernel for every format, on a range of row units (rows; block rows
/// for Bsr): `operator()(arch, A, x, y, u0, u1)` writes y for the rows of units [u0, u1) and
/// nothing else, each row's result independent of the range (pare::spmv splits units over
/// threads, bit-identical for any count). The dispatch idiom of simd/dispatch.hpp: the formats
/// pare_isa instantiates are those with spmv_dispatched<S>; others run on xsimd::default_arch.
/// @pre x has A.cols() and y A.rows() contiguous floats; y overlaps neither A nor x.
/// Each row's sum is within gamma_n * sum |a_rc x_c| of exact, as for the dense GEMV.
struct SpmvRows {
  template <class Arch, class Index>
  void operator()(Arch, const Csr<Index>& a, const float* x, float* y, std::size_t u0,
                  std::size_t u1) const noexcept;
  template <class Arch, class Index>
  void operator()(Arch, const CsrInt8<Index>& a, const float* x, float* y, std::size_t u0,
                  std::size_t u1) const noexcept;
  template <class Arch>
  void operator()(Arch, const Bitmap& a, const float* x, float* y, std::size_t u0,
                  std::size_t u1) const noexcept;
  template <class Arch, std::size_t R, std::size_t C>
  void operator()(Arch, const Bsr<R, C>& a, const float* x, float* y, std::size_t u0,
                  std::size_t u1) const noexcept;
  template <class Arch, std::size_t N, std::size_t M, class V>
  void operator()(Arch, const PackedNM<N, M, V>& a, const float* x, float* y, std::size_t u0,
                  std::size_t u1) const noexcept;
};

/// Row units of A for SpmvRows: rows, or block rows for Bsr.
template <class S>
[[nodiscard]] std::size_t spmv_units(const S& a) noexcept {
  if constexpr (requires { a.block_ptr(); })
    return a.block_ptr().size() - 1;
  else
    return a.rows();
}

template <class Arch, class Index>
void SpmvRows::operator()(Arch, const Csr<Index>& a, const float* x, float* y, std::size_t u0,
                          std::size_t u1) const noexcept {
  const std::uint32_t* rp = a.row_ptr().data();
  for (std::size_t r = u0; r < u1; ++r)
    y[r] = detail::csr_row<Arch>(a.values().data(), a.col().data(), rp[r], rp[r + 1], x);
}

template <class Arch, class Index>
void SpmvRows::operator()(Arch, const CsrInt8<Index>& a, const float* x, float* y, std::size_t u0,
                          std::size_t u1) const noexcept {
  const std::uint32_t* rp = a.row_ptr().data();
  for (std::size_t r = u0; r < u1; ++r)
    y[r] = a.scales()[r] *
           detail::csr_row<Arch>(a.values().data(), a.col().data(), rp[r], rp[r + 1], x);
}

template <class Arch>
void SpmvRows::operator()(Arch, const Bitmap& a, const float* x, float* y, std::size_t u0,
                          std::size_t u1) const noexcept {
  const std::size_t words = a.words_per_row();
  for (std::size_t r = u0; r < u1; ++r) {
    const std::uint64_t* bits = a.bits().data() + r * words;
    const float* v = a.values().data() + a.row_start()[r];
#if PARE_SIMD_X86 && defined(__AVX512BW__)
    if constexpr (std::is_same_v<Arch, xsimd::avx512bw>) {
      // Per 64 columns: 4 loads + register expands put the next kept values into the lanes
      // their bits select (zeros elsewhere; loads may run into Bitmap::padding); x is loaded
      // under the same masks, so columns past the end are never touched and pruned columns never
      // meet x (no 0 * inf).
      __m512 acc0 = _mm512_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
      for (std::size_t wd = 0; wd < words; ++wd) {
        const std::uint64_t m = bits[wd];
        const float* xc = x + wd * 64;
        const auto k0 = static_cast<__mmask16>(m), k1 = static_cast<__mmask16>(m >> 16),
                   k2 = static_cast<__mmask16>(m >> 32), k3 = static_cast<__mmask16>(m >> 48);
        const int n0 = std::popcount(m & 0xffffu), n1 = std::popcount(m & 0xffffffffu),
                  n2 = std::popcount(m & 0xffffffffffffu);
        acc0 = _mm512_fmadd_ps(_mm512_maskz_expand_ps(k0, detail::load_opaque<Arch>(v)),
                               _mm512_maskz_loadu_ps(k0, xc), acc0);
        acc1 = _mm512_fmadd_ps(_mm512_maskz_expand_ps(k1, detail::load_opaque<Arch>(v + n0)),
                               _mm512_maskz_loadu_ps(k1, xc + 16), acc1);
        acc2 = _mm512_fmadd_ps(_mm512_maskz_expand_ps(k2, detail::load_opaque<Arch>(v + n1)),
                               _mm512_maskz_loadu_ps(k2, xc + 32), acc2);
        acc3 = _mm512_fmadd_ps(_mm512_maskz_expand_ps(k3, detail::load_opaque<Arch>(v + n2)),
                               _mm512_maskz_loadu_ps(k3, xc + 48), acc3);
        v += std::popcount(m);
      }
      y[r] =
          _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(acc0, acc1), _mm512_add_ps(acc2, acc3)));
      continue;
    }
#endif
    // Other archs have no expand-load: walk the set bits.
    float s = 0;
    for (std::size_t wd = 0; wd < words; ++wd)
      for (std::uint64_t m = bits[wd]; m != 0; m &= m - 1)
        s += *v++ * x[wd * 64 + static_cast<std::size_t>(std::countr_zero(m))];
    y[r] = s;
  }
}

template <class Arch, std::size_t R, std::size_t C>
void SpmvRows::operator()(Arch, const Bsr<R, C>& a, const float* x, float* y, std::size_t u0,
                          std::size_t u1) const noexcept {
  using B = xsimd::batch<float, Arch>;
  constexpr std::size_t w = B::size;
  const std::size_t brows = u1;
  const float* val = a.values().data();
  const std::uint32_t* bcol = a.block_col().data();
  for (std::size_t br = u0; br < brows; ++br) {
    const std::size_t b0 = a.block_ptr()[br], b1 = a.block_ptr()[br + 1];
    alignas(64) std::array<float, R> out{};
    if constexpr (C % w == 0) {
      // Along the row: one x load per C/w batches serves all R rows of the block.
      std::array<B, R> acc;
      for (auto& s : acc) s = B(0.0f);
      for (std::size_t b = b0; b < b1; ++b) {
        const std::size_t c0 = bcol[b] * C;
        const float* v = val + b * R * C;
        if (c0 + C <= a.cols()) {
          for (std::size_t k = 0; k < C; k += w) {
            const B xv = B::load_unaligned(x + c0 + k);
            for (std::size_t i = 0; i < R; ++i)
              acc[i] = simd::fma(B::load_unaligned(v + i * C + k), xv, acc[i]);
          }
        } else {  // the last block column hangs over the matrix edge
          for (std::size_t i = 0; i < R; ++i)
            for (std::size_t k = 0; c0 + k < a.cols(); ++k) out[i] += v[i * C + k] * x[c0 + k];
        }
      }
      for (std::size_t i = 0; i < R; ++i) out[i] += xsimd::hadd(acc[i]);
    } else if constexpr (C == 1 && R % w == 0) {
      // Down the column: each block is R consecutive rows times one broadcast x.
      std::array<B, R / w> acc;
      for (auto& s : acc) s = B(0.0f);
      for (std::size_t b = b0; b < b1; ++b) {
        const B xv(x[bcol[b]]);
        for (std::size_t i = 0; i < R / w; ++i)
          acc[i] = simd::fma(B::load_unaligned(val + b * R + i * w), xv, acc[i]);
      }
      for (std::size_t i = 0; i < R / w; ++i) acc[i].store_aligned(out.data() + i * w);
    } else {
      for (std::size_t b = b0; b < b1; ++b)
        for (std::size_t i = 0; i < R; ++i)
          for (std::size_t k = 0; k < C && bcol[b] * C + k < a.cols(); ++k)
            out[i] += val[(b * R + i) * C + k] * x[bcol[b] * C + k];
    }
    for (std::size_t i = 0; i < R && br * R + i < a.rows(); ++i) y[br * R + i] = out[i];
  }
}

template <class Arch, std::size_t N, std::size_t M, class V>
void SpmvRows::operator()(Arch, const PackedNM<N, M, V>& a, const float* x, float* y,
                          std::size_t u0, std::size_t u1) const noexcept {
  using B = xsimd::batch<float, Arch>;
  using I = xsimd::batch<std::int32_t, Arch>;
  using Format = PackedNM<N, M, V>;
  constexpr std::size_t w = B::size;
  constexpr std::size_t bits = Format::index_bits;
  const std::size_t vpr = a.values_per_row(), words = a.words_per_row();
  [[maybe_unused]] const std::size_t cols = a.cols();  // only the permute paths read it
  const auto load = [](const V* v) {
    if constexpr (Format::quantized)
      return pare::detail::load_int8_as_float<Arch>(v);
    else
      return B::load_unaligned(v);
  };
  // Only the 2:4 f32 product, the one measured, prefetches (see detail::nm_prefetch_bytes).
  [[maybe_unused]] constexpr bool prefetch = std::is_same_v<V, float> && N == 2 && M == 4;
  for (std::size_t r = u0; r < u1; ++r) {
    const V* v = a.values().data() + r * vpr;
    const std::uint32_t* idx = a.indices().data() + r * words;
    B acc(0.0f);
    std::size_t j = 0;
    if constexpr (w % N == 0 && w * bits <= 64) {
      static constexpr detail::NMLanes<w, N, M, bits> lanes{};
      const I shift = I::load_aligned(lanes.shift.data());
      const I group_offset = I::load_aligned(lanes.group_offset.data());
      // All ones in the lanes that read the row's second index word (lanes.word is 0 or 1).
      // A bit blend, not xsimd::select: xsimd 8.1's avx512bw select does not compile at -O0
      // with GCC (its dead 8/16-bit branches cast through intrinsics that are macros there).
      const I high_word = I(0) - I::load_aligned(lanes.word.data());
      // x for the w values starting at value j: decode their positions, then fetch.
      const auto fetch = [&](std::size_t j0) {
        const std::size_t bit = j0 * bits, wi = bit / 32;
        I packed;
        if constexpr (w * bits == 32) {
          packed = I(static_cast<std::int32_t>(idx[wi]));  // whole word, no straddling
        } else if constexpr (w * bits == 64) {
          const I lo(static_cast<std::int32_t>(idx[wi])),
              hi(static_cast<std::int32_t>(idx[wi + 1]));
          packed = lo ^ ((lo ^ hi) & high_word);
        } else {  // fewer than 32 bits, possibly straddling two words
          std::uint64_t chunk = idx[wi];
          if (wi + 1 < words) chunk |= static_cast<std::uint64_t>(idx[wi + 1]) << 32;
          packed = I(static_cast<std::int32_t>((chunk >> (bit % 32)) & 0xffffffffu));
        }
        const I pos = (pare::detail::shift_right_lanes<Arch>(packed, shift) &
                       I(static_cast<std::int32_t>(Format::index_mask))) +
                      group_offset;
        const std::size_t base = j0 / N * M;
#if PARE_SIMD_X86 && defined(__AVX512BW__)
        if constexpr (std::is_same_v<Arch, xsimd::avx512bw> && w / N * M <= 64) {
          // All w values fall in 32 (or 64) consecutive columns: one two-register permute (or
          // two and a blend on bit 5 of the position) replaces the gather, ~1 cycle each
          // instead of ~16 for a 16-lane gather on Zen 4.
          if (base + 64 <= cols || (w / N * M <= 32 && base + 32 <= cols)) {
            const __m512 lo = _mm512_permutex2var_ps(B::load_unaligned(x + base), pos,
                                                     B::load_unaligned(x + base + 16));
            if constexpr (w / N * M <= 32) {
              return B(lo);
            } else {
              const __m512 hi = _mm512_permutex2var_ps(B::load_unaligned(x + base + 32), pos,
                                                       B::load_unaligned(x + base + 48));
              return B(
                  _mm512_mask_blend_ps(_mm512_test_epi32_mask(pos, _mm512_set1_epi32(32)), lo, hi));
            }
          }
        }
#endif
#if PARE_SIMD_X86 && defined(__AVX2__)
        if constexpr (std::is_same_v<Arch, xsimd::fma3<xsimd::avx2>> && w / N * M <= 16) {
          // The 8 values fall in 16 consecutive columns (2:4, 4:8): two `vpermps` and a blend on
          // bit 3 of the position replace the gather.
          if (base + 16 <= cols) {
            const __m256 lo = _mm256_permutevar8x32_ps(_mm256_loadu_ps(x + base), pos);
            const __m256 hi = _mm256_permutevar8x32_ps(_mm256_loadu_ps(x + base + 8), pos);
            return B(_mm256_blendv_ps(lo, hi, _mm256_castsi256_ps(_mm256_slli_epi32(pos, 28))));
          }
        }
#endif
        return pare::detail::gather<Arch>(x + base, pos);
      };
      B acc1(0.0f);
#if PARE_SIMD_X86 && defined(__AVX2__)
      if constexpr (std::is_same_v<Arch, xsimd::fma3<xsimd::avx2>> && N == 2 && M == 4) {
        // 2:4: an index word holds the positions of 16 values (32 columns). With the x of
        // groups g and g+2 in the two 128-bit lanes of one register (g+1 and g+3 in another),
        // the in-lane `vpermilps` picks each group's kept pair using the raw positions as its
        // control (it reads only bits 1:0 of a lane), and a constant blend puts the pairs back
        // in storage order: no masking, no group offsets and no cross-lane permute per batch,
        // which made the `vpermps` path above compute-bound. Lanes and summation order are the
        // same as the generic loop's, so results are bit-identical to it.
        const __m256i shift_lo = _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14);
        const __m256i shift_hi = _mm256_setr_epi32(16, 18, 20, 22, 24, 26, 28, 30);
        const auto pick = [](const float* xc, __m256i ctl) {
          const __m256 even = _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_loadu_ps(xc)),
                                                   _mm_loadu_ps(xc + 8), 1);
          const __m256 odd = _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_loadu_ps(xc + 4)),
                                                  _mm_loadu_ps(xc + 12), 1);
          return B(_mm256_blend_ps(_mm256_permutevar_ps(even, ctl), _mm256_permutevar_ps(odd, ctl),
                                   0xcc));
        };
        // Whole words whose 32 columns all exist (a partial last group ends the row early).
        const std::size_t blocks = std::min(vpr / 16, cols / 32);
        for (std::size_t b = 0; b < blocks; ++b, j += 16) {
          if constexpr (prefetch)
            __builtin_prefetch(reinterpret_cast<const char*>(v + j) + detail::nm_prefetch_bytes, 0,
                               3);
          const __m256i word = _mm256_set1_epi32(static_cast<std::int32_t>(idx[b]));
          const float* xc = x + 32 * b;
          acc = simd::fma(load(v + j), pick(xc, _mm256_srlv_epi32(word, shift_lo)), acc);
          acc1 = simd::fma(load(v + j + 8), pick(xc + 16, _mm256_srlv_epi32(word, shift_hi)), acc1);
        }
      }
#endif
      for (; j + 2 * w <= vpr; j += 2 * w) {
        if constexpr (prefetch && w == 16)  // the AVX-512 permute path
          for (std::size_t k = 0; k < 2 * w * sizeof(V); k += 64)
            __builtin_prefetch(reinterpret_cast<const char*>(v + j) + detail::nm_prefetch_bytes + k,
                               0, 3);
        acc = simd::fma(load(v + j), fetch(j), acc);
        acc1 = simd::fma(load(v + j + w), fetch(j + w), acc1);
      }
      if (j + w <= vpr) {
        acc = simd::fma(load(v + j), fetch(j), acc);
        j += w;
      }
      acc += acc1;
    }
    float s = xsimd::hadd(acc);
    for (; j < vpr; ++j) s += static_cast<float>(v[j]) * x[a.column(r, j)];
    if constexpr (Format::quantized) s *= a.scales()[r];
    y[r] = s;
  }
}

// The formats pare_isa instantiates (simd/dispatch.hpp); pare::spmv runs others on
// xsimd::default_arch.
#define PARE_SPMV_KERNEL(...)                                                                  \
  PARE_DISPATCHED_KERNEL(void, SpmvRows::operator(),                                           \
                         (const __VA_ARGS__&, const float*, float*, std::size_t, std::size_t), \
                         const noexcept)
PARE_SPMV_KERNEL(Csr<std::uint16_t>)
PARE_SPMV_KERNEL(Csr<std::uint32_t>)
PARE_SPMV_KERNEL(CsrInt8<std::uint16_t>)
PARE_SPMV_KERNEL(CsrInt8<std::uint32_t>)
PARE_SPMV_KERNEL(Bitmap)
PARE_SPMV_KERNEL(Bsr<1, 16>)
PARE_SPMV_KERNEL(Bsr<4, 16>)
PARE_SPMV_KERNEL(Bsr<16, 1>)
PARE_SPMV_KERNEL(PackedNM<2, 4, float>)
PARE_SPMV_KERNEL(PackedNM<1, 4, float>)
PARE_SPMV_KERNEL(PackedNM<4, 8, float>)
PARE_SPMV_KERNEL(PackedNM<2, 8, float>)
PARE_SPMV_KERNEL(PackedNM<1, 8, float>)
PARE_SPMV_KERNEL(PackedNM<2, 4, std::int8_t>)
PARE_SPMV_KERNEL(PackedNM<1, 4, std::int8_t>)
PARE_SPMV_KERNEL(PackedNM<2, 8, std::int8_t>)
PARE_SPMV_KERNEL(PackedNM<1, 8, std::int8_t>)
#undef PARE_SPMV_KERNEL

/// True for the formats whose SpmvRows instantiations pare_isa holds.
template <class S>
inline constexpr bool spmv_dispatched =
    std::is_same_v<S, Csr<std::uint16_t>> || std::is_same_v<S, Csr<std::uint32_t>> ||
    std::is_same_v<S, CsrInt8<std::uint16_t>> || std::is_same_v<S, CsrInt8<std::uint32_t>> ||
    std::is_same_v<S, Bitmap> || std::is_same_v<S, Bsr<1, 16>> || std::is_same_v<S, Bsr<4, 16>> ||
    std::is_same_v<S, Bsr<16, 1>> || std::is_same_v<S, PackedNM<2, 4, float>> ||
    std::is_same_v<S, PackedNM<1, 4, float>> || std::is_same_v<S, PackedNM<4, 8, float>> ||
    std::is_same_v<S, PackedNM<2, 8, float>> || std::is_same_v<S, PackedNM<1, 8, float>> ||
    std::is_same_v<S, PackedNM<2, 4, std::int8_t>> ||
    std::is_same_v<S, PackedNM<1, 4, std::int8_t>> ||
    std::is_same_v<S, PackedNM<2, 8, std::int8_t>> ||
    std::is_same_v<S, PackedNM<1, 8, std::int8_t>>;

/// SpmvRows over all of A on one thread, for a given arch (tests, benchmarks).
struct Spmv {
  template <class Arch, class S>
  void operator()(Arch arch, const S& a, const float* x, float* y) const noexcept {
    SpmvRows{}(arch, a, x, y, 0, spmv_units(a));
  }
};

/// y = A x on the best path the CPU runs (simd::dispatch for the spmv_dispatched formats, else
/// xsimd::default_arch), row units split over pare's threads: bit-identical for any count.
/// @pre as SpmvRows.
template <class S>
void spmv_threaded(const S& a, const float* x, float* y) {
  const std::size_t units = spmv_units(a);
  // Pieces of at least ~256 K stored values (1 MiB of f32 values; rows, when A is nearly empty):
  // the product is bound by memory bandwidth, and 16 K-value pieces made the 2:4 product slower
  // on two threads than on one (Zen 5, docs/performance.md).
  const std::size_t per_unit = a.stored() / (units > 0 ? units : 1) + 1;
  const std::size_t grain = std::max<std::size_t>(1, (std::size_t{1} << 18) / per_unit);
  parallel_for(0, units, grain, [&](std::size_t lo, std::size_t hi) {
    if constexpr (spmv_dispatched<S>)
      simd::dispatch([&](auto arch) { SpmvRows{}(arch, a, x, y, lo, hi); });
    else
      SpmvRows{}(xsimd::default_arch{}, a, x, y, lo, hi);
  });
}

}  // namespace pare::kernels

namespace pare {

/// y = A x for a sparse A (Csr, CsrInt8, Bsr, PackedNM) of shape [rows, cols], x of [cols] and
/// y of [rows]. SIMD kernel (kernels::spmv_threaded: run-time dispatch, rows over pare's threads,
/// bit-identical for any count) when x and y are contiguous, else the scalar reference.
/// @pre y overlaps neither A nor x. ShapeError if the shapes disagree.
/// ```
/// auto a = pare::Csr<std::uint16_t>::from_dense(w.view(), mask.view());
/// pare::spmv(a, x.view(), y.view());
/// ```
template <SparseMatrix S>
void spmv(const S& a, TensorView<const float, 1> x, TensorView<float, 1> y) {
  PARE_CHECK(a.cols() == x.extent(0) && a.rows() == y.extent(0), ShapeError, "spmv: A [", a.rows(),
             ", ", a.cols(), "] x ", to_string(x.extents()), " -> y ", to_string(y.extents()));
  if constexpr (simd::has_simd) {
    if (x.is_contiguous() && y.is_contiguous()) {
      kernels::spmv_threaded(a, x.data(), y.data());
      return;
    }
  }
  kernels::reference::spmv(a, x, y);
}

}  // namespace pare

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

#ifndef PARE_COMPILED_LIB
#include "pare/kernels/spmv-inl.hpp"
#endif
