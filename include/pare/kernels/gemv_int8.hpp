// SPDX-License-Identifier: Apache-2.0
// pare — int8 GEMV y = B a (one activation row, the decode case) on packed s8 weights.
//
// The GEMV is the GEMM with M = 1 (gemm_int8.hpp): on AVX-512 VNNI the micro-tile is 1 row x 48
// columns, so three 64-byte weight streams are in flight and each 64 bytes of weights costs one
// `vpdpbusd`; on the AVX2 tier (avx-vnni, avx2) it is 1 row x 16 columns, one stream per panel
// (avx-vnni: two k steps in flight; avx2: the exact vpmaddubsw/sign tile). Memory-bound: a
// 4096 x 4096 matrix is 16 MiB and runs at the DRAM read bandwidth of the cores it runs on, kept
// there by a software prefetch 4 KiB ahead of the weight stream (measured on Zen 5, one thread,
// cold: 30-33 GB/s on every SIMD path against the 33 GB/s read probe of the benchmark); like the
// GEMM, it shares out groups of output columns on up to num_threads() threads.
#pragma once

#include <cstddef>
#include <cstdint>

#include "pare/kernels/gemm_int8.hpp"

namespace pare {

/// c [N] s32 = B a with u8 activations a [K], exact.
inline void gemv_u8s8s32(const std::uint8_t* a, const PackedInt8Weights& b, std::int32_t* c,
                         Int8Path path = Int8Path::automatic) {
  gemm_u8s8s32(a, 1, b.k(), b, c, b.n(), path);
}

/// c [N] s32 = B a with s8 activations a [K], exact.
inline void gemv_s8s8s32(const std::int8_t* a, const PackedInt8Weights& b, std::int32_t* c,
                         Int8Path path = Int8Path::automatic) {
  gemm_s8s8s32(a, 1, b.k(), b, c, b.n(), path);
}

/// y [N] f32 = dequantized B a + bias, a quantized u8 with (scale, zero point) = a_params.
inline void gemv_u8s8_f32(const std::uint8_t* a, QuantParams a_params, const PackedInt8Weights& b,
                          const float* bias, float* y, Int8Path path = Int8Path::automatic) {
  gemm_u8s8_f32(a, 1, b.k(), &a_params.scale, &a_params.zero_point, b, bias, y, b.n(), path);
}

}  // namespace pare
