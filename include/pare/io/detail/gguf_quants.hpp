// SPDX-License-Identifier: Apache-2.0
// pare — ggml's block formats: decoding every type pare reads to float, and the Q8_0 / Q4_0
// reference quantizers, bit for bit as ggml's C code does them.
//
// Layouts (little-endian; f16 = IEEE half; QK_K = 256):
//   Q4_0  32 w, 18 B: f16 d, 16 B qs       w[j] = ((qs[j] & 15) - 8)·d, w[j+16] = ((qs[j] >> 4) -
//   8)·d Q4_1  32 w, 20 B: f16 d, f16 m, 16 B   w = q·d + m (nibbles as Q4_0) Q5_0  32 w, 22 B: f16
//   d, u32 qh, 16 B  5th bit of w[j] is bit j of qh; w = (q - 16)·d Q5_1  32 w, 24 B: f16 d, f16 m,
//   u32 qh, 16 B   w = q·d + m Q8_0  32 w, 34 B: f16 d, 32 i8         w = q·d Q8_1  32 w, 36 B: f16
//   d, f16 s (= d·Σq, unused here), 32 i8 Q2_K  84 B: 16 B scales (4-bit scale | 4-bit min), 64 B
//   qs (2-bit), f16 d, f16 dmin Q3_K  110 B: 32 B hmask, 64 B qs, 12 B packed 6-bit scales, f16 d
//   Q4_K  144 B: f16 d, f16 dmin, 12 B packed 6-bit scales/mins, 128 B qs
//   Q5_K  176 B: f16 d, f16 dmin, 12 B scales/mins, 32 B qh, 128 B qs
//   Q6_K  210 B: 128 B ql, 64 B qh, 16 i8 scales, f16 d
//   Q8_K  292 B: f32 d, 256 i8, 16 i16 bsums (unused here)
//
// Floating point: ggml evaluates `a*b - c` without fusing (its reference build has no FMA).
// Every such product below is exact in float — an f16 scale (11 significant bits) times small
// integers needs at most 24 bits — so a compiler that contracts it into an FMA still gets the
// same bits. The Q4_0 quantizer's `x·id + 8.5` is not exact, so there a barrier stops fusion.
#pragma once

#include <cstddef>
#include <span>

#include "pare/core/error.hpp"
#include "pare/io/detail/gguf_types.hpp"

namespace pare::io::detail {

/// Decodes `n` elements of type `t` from `src` (exactly n / block_size blocks) into `dst`.
/// @pre ggml_type_info(t)->dequantizable, n is a multiple of the block size, the spans match.
void gguf_dequantize_unchecked(GgmlType t, const std::byte* src, float* dst,
                               std::size_t n) noexcept;

}  // namespace pare::io::detail

namespace pare::io {

/// Decodes packed ggml data of type `t` to floats, exactly as ggml's dequantize_row_<type>.
/// `src` must hold dst.size() / block_size whole blocks. ArgumentError when the sizes disagree,
/// UnsupportedError for a type pare does not decode (the IQ, TQ and FP4 families).
///
///     std::vector<float> w(n);
///     pare::io::gguf_dequantize(pare::io::GgmlType::q4_0, file.raw("w"), w);
void gguf_dequantize(GgmlType t, std::span<const std::byte> src, std::span<float> dst);

/// Quantizes floats to Q8_0 or Q4_0 blocks, bit for bit as ggml's quantize_row_q8_0_ref /
/// quantize_row_q4_0_ref. `src.size()` must be a multiple of 32 and `dst` hold its blocks
/// (34 or 18 bytes per 32 values); ArgumentError otherwise, or for a non-finite input
/// (ggml's C code has no defined result for it), UnsupportedError for another type.
void gguf_quantize(GgmlType t, std::span<const float> src, std::span<std::byte> dst);

}  // namespace pare::io

#ifndef PARE_COMPILED_LIB
#include "pare/io/detail/gguf_quants-inl.hpp"
#endif
