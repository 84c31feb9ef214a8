// SPDX-License-Identifier: Apache-2.0
// pare — definitions for kernels/gemm_int8.hpp: compiled once into pare::compiled, or included by
// the header (core/config.hpp explains the two modes).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "pare/core/config.hpp"
#include "pare/kernels/gemm_int8.hpp"
#include "pare/simd/dispatch.hpp"

namespace pare {

PARE_INLINE bool int8_path_available(Int8Path path) {
#if PARE_SIMD_X86
  const simd::CpuFeatures& f = simd::cpu_features();
  switch (path) {
    case Int8Path::automatic:
    case Int8Path::scalar:
      return true;
    case Int8Path::amx:
      return f.avx512bw && simd::amx_int8_usable();
    case Int8Path::avx512_vnni:
      return f.avx512f && f.avx512bw && f.avx512vnni;
    case Int8Path::avx_vnni:
      return f.avx_vnni;
    case Int8Path::avx2:
      return f.avx2;
  }
  return false;
#else
  return path == Int8Path::automatic || path == Int8Path::scalar;
#endif
}

PARE_INLINE Int8Path best_int8_path() {
  // The tier cap of simd/dispatch.hpp (set_max_tier, PARE_ISA) applies here too, so one switch
  // runs every kernel of a benchmark on the lower path.
  const simd::Tier cap = simd::max_tier();
  for (Int8Path p : {Int8Path::amx, Int8Path::avx512_vnni, Int8Path::avx_vnni, Int8Path::avx2}) {
    const simd::Tier needs =
        p == Int8Path::avx2 || p == Int8Path::avx_vnni ? simd::Tier::avx2 : simd::Tier::avx512;
    if (needs <= cap && int8_path_available(p)) return p;
  }
  return Int8Path::scalar;
}

PARE_INLINE std::vector<Int8Path> available_int8_paths() {
  std::vector<Int8Path> v;
  for (Int8Path p :
       {Int8Path::amx, Int8Path::avx512_vnni, Int8Path::avx_vnni, Int8Path::avx2, Int8Path::scalar})
    if (int8_path_available(p)) v.push_back(p);
  return v;
}

PARE_INLINE PackedInt8Weights::PackedInt8Weights(const std::int8_t* b, std::size_t n, std::size_t k,
                                                 std::size_t ldb, const float* scales)
    : n_(n), k_(k), k4p_((k + k_step - 1) / k_step * (k_step / 4)) {
  PARE_CHECK(k <= max_k, ArgumentError, "int8 GEMM: K = ", k, " exceeds ", max_k,
             " (s32 accumulation would overflow)");
  PARE_CHECK(ldb >= k, ArgumentError, "pack_int8_weights: row stride ", ldb, " < K = ", k);
  const std::size_t np = panels();
  data_ = Tensor<std::int8_t, 1>({np * k4p_ * 64});
  col_sums_ = Tensor<std::int32_t, 1>({np * panel});
  panel_min_ = Tensor<std::uint8_t, 1>({np});
  std::int8_t* d = data_.data();
  for (std::size_t col = 0; col < n; ++col) {
    const std::size_t p = col / panel, c = col % panel;
    std::int32_t s = 0;
    for (std::size_t kk = 0; kk < k; ++kk) {
      const std::int8_t v = b[col * ldb + kk];
      d[(p * k4p_ + kk / 4) * 64 + c * 4 + kk % 4] = v;
      s += v;
      if (v == -128) panel_min_.data()[p] = 1;
    }
    col_sums_.data()[col] = s;
  }
  if (scales) {
    scales_ = Tensor<float, 1>({np * panel});
    std::copy_n(scales, n, scales_.data());
  }
}

PARE_INLINE PackedInt8Weights pack_int8_weights(TensorView<const std::int8_t, 2> b,
                                                const float* scales) {
  PARE_CHECK(b.stride(1) == 1, ArgumentError, "pack_int8_weights: rows of B must be contiguous");
  return PackedInt8Weights(b.data(), b.extent(0), b.extent(1),
                           static_cast<std::size_t>(b.stride(0)), scales);
}

// Each typed entry point instantiates gemm_int8 for its epilogue, and with it all four paths
// (scalar, AVX2, AVX-512 VNNI, AMX): in compiled mode, once, here.
PARE_INLINE void gemm_u8s8s32(const std::uint8_t* a, std::size_t m, std::size_t lda,
                              const PackedInt8Weights& b, std::int32_t* c, std::size_t ldc,
                              Int8Path path) {
  gemm_int8(a, m, lda, false, b, StoreS32{c, ldc, b.column_sums(), 0}, path);
}

PARE_INLINE void gemm_s8s8s32(const std::int8_t* a, std::size_t m, std::size_t lda,
                              const PackedInt8Weights& b, std::int32_t* c, std::size_t ldc,
                              Int8Path path) {
  gemm_int8(reinterpret_cast<const std::uint8_t*>(a), m, lda, true, b,
            StoreS32{c, ldc, b.column_sums(), 128}, path);
}

PARE_INLINE void gemm_u8s8_f32(const std::uint8_t* a, std::size_t m, std::size_t lda,
                               const float* a_scales, const std::int32_t* a_zeros,
                               const PackedInt8Weights& b, const float* bias, float* y,
                               std::size_t ldy, Int8Path path) {
  gemm_int8(a, m, lda, false, b,
            DequantF32{y, ldy, a_scales, a_zeros, 0, b.column_sums(), b.scales(), bias}, path);
}

PARE_INLINE void gemm_s8s8_f32(const std::int8_t* a, std::size_t m, std::size_t lda,
                               const float* a_scales, const PackedInt8Weights& b, const float* bias,
                               float* y, std::size_t ldy, Int8Path path) {
  gemm_int8(reinterpret_cast<const std::uint8_t*>(a), m, lda, true, b,
            DequantF32{y, ldy, a_scales, nullptr, 128, b.column_sums(), b.scales(), bias}, path);
}

}  // namespace pare
