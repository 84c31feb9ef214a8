// SPDX-License-Identifier: Apache-2.0
// pare — definitions for core/dtype.hpp: compiled once into pare::compiled, or included by the
// header (core/config.hpp explains the two modes).
#pragma once

#include <cstddef>

#include "pare/core/config.hpp"
#include "pare/core/dtype.hpp"
#include "pare/core/float16.hpp"

#if defined(__F16C__) && defined(__AVX__)
#include <immintrin.h>
#endif

namespace pare::detail {

PARE_INLINE void convert_f32_to(const float* in, f16* out, std::size_t n) noexcept {
  std::size_t i = 0;
#if defined(__F16C__) && defined(__AVX__)
  // VCVTPS2PH with an explicit round-to-nearest-even immediate (independent of MXCSR); its NaN and
  // subnormal results match the scalar path bit for bit (tested over all 2^32 floats).
  for (; i + 8 <= n; i += 8) {
    const __m128i h =
        _mm256_cvtps_ph(_mm256_loadu_ps(in + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), h);
  }
#endif
  for (; i < n; ++i) out[i] = f16(in[i]);
}

PARE_INLINE void convert_to_f32(const f16* in, float* out, std::size_t n) noexcept {
  std::size_t i = 0;
#if defined(__F16C__) && defined(__AVX__)
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(out + i,
                     _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i))));
#endif
  for (; i < n; ++i) out[i] = static_cast<float>(in[i]);
}

}  // namespace pare::detail
