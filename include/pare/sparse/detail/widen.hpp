// SPDX-License-Identifier: Apache-2.0
// pare — loads that widen narrow storage into full SIMD lanes: 16/32-bit column indices to int32
// gather offsets, int8 values to float. xsimd 8.1 converts these element by element, so the
// x86 archs use the one-instruction widening moves (vpmovzxwd, vpmovsxbd) directly.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "pare/simd/arch.hpp"

namespace pare::detail {

/// Column indices idx[0..W) as int32 lanes (W = the arch's float batch width).
/// @pre every index fits in int32 (the formats check this when they are built).
template <class Arch, class Index>
[[nodiscard]] inline xsimd::batch<std::int32_t, Arch> load_index(const Index* idx) noexcept {
  using I = xsimd::batch<std::int32_t, Arch>;
  if constexpr (sizeof(Index) == 4) {
    return I::load_unaligned(reinterpret_cast<const std::int32_t*>(idx));
  } else {
    static_assert(std::is_same_v<Index, std::uint16_t>, "indices are uint16 or uint32");
#if PARE_SIMD_X86
#ifdef __AVX512BW__
    if constexpr (std::is_same_v<Arch, xsimd::avx512bw>)
      return I(_mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(idx))));
#endif
#ifdef __AVX2__
    if constexpr (std::is_same_v<Arch, xsimd::fma3<xsimd::avx2>>)
      return I(_mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(idx))));
#endif
    if constexpr (std::is_same_v<Arch, xsimd::sse2>)
      return I(_mm_unpacklo_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(idx)),
                                  _mm_setzero_si128()));
#endif
    alignas(64) std::array<std::int32_t, I::size> t;
    for (std::size_t k = 0; k < I::size; ++k) t[k] = static_cast<std::int32_t>(idx[k]);
    return I::load_aligned(t.data());
  }
}

/// int8 values v[0..W) as float lanes.
template <class Arch>
[[nodiscard]] inline xsimd::batch<float, Arch> load_int8_as_float(const std::int8_t* v) noexcept {
  using B = xsimd::batch<float, Arch>;
#if PARE_SIMD_X86
#ifdef __AVX512BW__
  if constexpr (std::is_same_v<Arch, xsimd::avx512bw>)
    return B(_mm512_cvtepi32_ps(
        _mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(v)))));
#endif
#ifdef __AVX2__
  if constexpr (std::is_same_v<Arch, xsimd::fma3<xsimd::avx2>>)
    return B(_mm256_cvtepi32_ps(
        _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(v)))));
#endif
  if constexpr (std::is_same_v<Arch, xsimd::sse2>) {
    // Each byte lands in the top byte of its 32-bit lane; the arithmetic shift sign-extends it.
    std::int32_t four;
    std::memcpy(&four, v, 4);
    const __m128i z = _mm_setzero_si128();
    const __m128i b = _mm_cvtsi32_si128(four);
    return B(_mm_cvtepi32_ps(_mm_srai_epi32(_mm_unpacklo_epi16(z, _mm_unpacklo_epi8(z, b)), 24)));
  }
#endif
  alignas(64) std::array<float, B::size> t;
  for (std::size_t k = 0; k < B::size; ++k) t[k] = static_cast<float>(v[k]);
  return B::load_aligned(t.data());
}

}  // namespace pare::detail

namespace pare::detail {

/// Lane k of v shifted right (arithmetically) by lane k of s, each s in [0, 32).
template <class Arch>
[[nodiscard]] inline xsimd::batch<std::int32_t, Arch> shift_right_lanes(
    xsimd::batch<std::int32_t, Arch> v, xsimd::batch<std::int32_t, Arch> s) noexcept {
  using I = xsimd::batch<std::int32_t, Arch>;
#if PARE_SIMD_X86
#ifdef __AVX512BW__
  // The maskz form: _mm512_srav_epi32 merges into _mm512_undefined_epi32(), which GCC 12 flags
  // as uninitialized when inlined (GCC bug 105593).
  if constexpr (std::is_same_v<Arch, xsimd::avx512bw>)
    return I(_mm512_maskz_srav_epi32(__mmask16(0xffff), v, s));
#endif
#ifdef __AVX2__
  if constexpr (std::is_same_v<Arch, xsimd::fma3<xsimd::avx2>>) return I(_mm256_srav_epi32(v, s));
#endif
#endif
  alignas(64) std::array<std::int32_t, I::size> a, b;
  v.store_aligned(a.data());
  s.store_aligned(b.data());
  for (std::size_t k = 0; k < I::size; ++k) a[k] >>= b[k];
  return I::load_aligned(a.data());
}

}  // namespace pare::detail

namespace pare::detail {

/// base[idx[k]] for each lane k. xsimd 8.1's batch::gather compiles to an out-of-line
/// element-by-element call here, 10x slower than the hardware gather on the x86 archs. The
/// gathers merge into a zeroed register: a gather reads its destination, and GCC 12 otherwise
/// reuses one destination for consecutive gathers, chaining them through their ~20-cycle latency.
template <class Arch>
[[nodiscard]] inline xsimd::batch<float, Arch> gather(
    const float* base, xsimd::batch<std::int32_t, Arch> idx) noexcept {
  using B = xsimd::batch<float, Arch>;
#if PARE_SIMD_X86
#ifdef __AVX512BW__
  if constexpr (std::is_same_v<Arch, xsimd::avx512bw>) {
    // An opaque all-ones mask: GCC must then merge into the fresh zero and cannot fold it away.
    __mmask16 all = 0xffff;
    __asm__("" : "+k"(all));
    return B(_mm512_mask_i32gather_ps(_mm512_setzero_ps(), all, idx, base, 4));
  }
#endif
#ifdef __AVX2__
  if constexpr (std::is_same_v<Arch, xsimd::fma3<xsimd::avx2>>) {
    __m256 all = _mm256_castsi256_ps(_mm256_set1_epi32(-1));
    __asm__("" : "+x"(all));
    return B(_mm256_mask_i32gather_ps(_mm256_setzero_ps(), base, idx, all, 4));
  }
#endif
#endif
  alignas(64) std::array<std::int32_t, B::size> i;
  alignas(64) std::array<float, B::size> v;
  idx.store_aligned(i.data());
  for (std::size_t k = 0; k < B::size; ++k) v[k] = base[i[k]];
  return B::load_aligned(v.data());
}

}  // namespace pare::detail
