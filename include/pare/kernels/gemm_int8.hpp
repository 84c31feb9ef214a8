// SPDX-License-Identifier: Apache-2.0
// pare — int8 GEMM C = A Bᵀ: A [M, K] u8 or s8 activations (row-major), B [N, K] s8 weights
// (row-major, the Linear layout), s32 accumulation, exact.
//
// Packing. pack_int8_weights() turns B into panels of 16 columns; inside a panel, for each group
// of 4 consecutive k, the 16 columns' 4 bytes follow each other (64 bytes: 16 x 4):
//     data[((p * K4p) + k4) * 64 + c * 4 + j] = B[16 p + c, 4 k4 + j]
// K4p = ceil(K / 4) rounded up to 16, N rounded up to 16, both zero padded. This is the operand
// layout of AVX-512 VNNI `vpdpbusd` (one 64-byte load = 16 columns x 4 k) and, 16 k4 rows at a
// time, exactly an AMX B tile (16 rows x 64 bytes). The packed weights also keep Σ_k B[n, k]
// (column sums, for zero points) and optional per-column f32 scales.
//
// Paths (Int8Path), chosen at run time from cpuid unless given explicitly:
//   amx          AMX-INT8 `tdpbusd`: 32x32 output blocks in 4 tiles, A copied to a zero-padded
//                buffer; only where cpuid reports amx-tile + amx-int8 and Linux grants XTILEDATA
//                (simd::amx_int8_usable). Not tested on the machine this was written on.
//   avx512_vnni  `vpdpbusd` on zmm: 8 rows x 48 columns of accumulators per micro-tile, k in
//                blocks of 512 (the B slice stays in L1), rows in blocks of 96.
//   avx_vnni     `vpdpbusd` on ymm (VEX, AVX-VNNI: Alder Lake, Zen 5): 6 rows x 16 columns per
//                micro-tile, the avx512_vnni blocking otherwise. Chosen on the AVX2 tier when the
//                CPU has it.
//   avx2         exact without VNNI: s8 activations s = u - 128 as |s| x sign(b, s) through
//                `vpmaddubsw` (which cannot saturate then) and `vpmaddwd` with ones, 4 rows x 16
//                columns per micro-tile; a second product fixes up weights of -128 (see the AVX2
//                section).
//   scalar       plain C++ over the packed layout; gemm_int8_reference() is the independent
//                reference over the unpacked B that tests compare every path with.
// s8 activations go through the u8 instruction as a + 128 (a xor 0x80); the epilogue subtracts
// 128 Σ_k B[n, k]. Exactness needs |C| < 2^31: K <= 65536 is checked.
//
// Epilogues see s32 tiles T[m, n] = Σ_k u[m, k] B[n, k] (u = a for u8 inputs, a + 128 for s8) and
// write the output: raw s32 (StoreS32), f32 dequantized with per-row activation scale and zero
// point, per-column weight scale and bias (DequantF32), or requantized u8/s8 (Requant).
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <type_traits>
#include <vector>

#include "pare/core/error.hpp"
#include "pare/core/parallel.hpp"
#include "pare/core/tensor.hpp"
#include "pare/quant/concepts.hpp"
#include "pare/simd/arch.hpp"

#if PARE_SIMD_X86
#include <immintrin.h>
#endif

namespace pare {

/// The instruction set an int8 GEMM runs on. `automatic` picks the best the CPU has.
enum class Int8Path { automatic, amx, avx512_vnni, avx_vnni, avx2, scalar };

[[nodiscard]] constexpr const char* to_string(Int8Path p) noexcept {
  switch (p) {
    case Int8Path::automatic:
      return "automatic";
    case Int8Path::amx:
      return "amx-int8";
    case Int8Path::avx512_vnni:
      return "avx512-vnni";
    case Int8Path::avx_vnni:
      return "avx-vnni";
    case Int8Path::avx2:
      return "avx2";
    case Int8Path::scalar:
      return "scalar";
  }
  return "?";
}

/// True when this CPU (and OS) can run `path`.
[[nodiscard]] bool int8_path_available(Int8Path path);

/// The fastest path this CPU runs under simd::max_tier(): amx, then avx512_vnni (AVX-512 tier),
/// avx_vnni, avx2 (AVX2 tier), scalar.
[[nodiscard]] Int8Path best_int8_path();

/// Every concrete path this CPU runs, best first (tests run them all).
[[nodiscard]] std::vector<Int8Path> available_int8_paths();

/// s8 weights B [N, K] packed for every int8 path (layout in the file comment), with Σ_k B[n, k]
/// and optional per-column (per output channel) scales.
class PackedInt8Weights {
 public:
  static constexpr std::size_t panel = 16;   ///< columns per panel
  static constexpr std::size_t k_step = 64;  ///< K is zero padded to a multiple of this

  PackedInt8Weights() = default;

  /// Packs b [n, k] (row stride ldb); `scales` (n floats) may be null.
  PackedInt8Weights(const std::int8_t* b, std::size_t n, std::size_t k, std::size_t ldb,
                    const float* scales = nullptr);

  /// Largest K for which s32 accumulation is exact: 65536 * 255 * 128 < 2^31.
  static constexpr std::size_t max_k = 65536;

  [[nodiscard]] std::size_t n() const noexcept { return n_; }
  [[nodiscard]] std::size_t k() const noexcept { return k_; }
  [[nodiscard]] std::size_t panels() const noexcept { return (n_ + panel - 1) / panel; }
  /// K / 4 rounded up to a multiple of 16: the k4 rows of one panel.
  [[nodiscard]] std::size_t k4_padded() const noexcept { return k4p_; }
  /// Bytes from one panel to the next.
  [[nodiscard]] std::size_t panel_stride() const noexcept { return k4p_ * 64; }
  [[nodiscard]] const std::int8_t* data() const noexcept { return data_.data(); }
  /// Σ_k B[n, k] for each column (padded columns: 0).
  [[nodiscard]] const std::int32_t* column_sums() const noexcept { return col_sums_.data(); }
  /// Per-column scales, or null when packed without.
  [[nodiscard]] const float* scales() const noexcept {
    return scales_.empty() ? nullptr : scales_.data();
  }
  /// The value B[n, k] (tests, debugging).
  [[nodiscard]] std::int8_t at(std::size_t col, std::size_t kk) const noexcept {
    return data_.data()[((col / panel) * k4p_ + kk / 4) * 64 + (col % panel) * 4 + kk % 4];
  }
  /// True when some weight of panel p is -128 (the avx2 path then adds a correction).
  [[nodiscard]] bool panel_has_min(std::size_t p) const noexcept {
    return panel_min_.data()[p] != 0;
  }
  /// Bytes held: packed codes, column sums, scales and panel flags.
  [[nodiscard]] std::size_t size_bytes() const noexcept {
    return data_.size_bytes() + col_sums_.size_bytes() + scales_.size_bytes() +
           panel_min_.size_bytes();
  }

 private:
  std::size_t n_ = 0, k_ = 0, k4p_ = 0;
  Tensor<std::int8_t, 1> data_;
  Tensor<std::int32_t, 1> col_sums_;
  Tensor<float, 1> scales_;
  Tensor<std::uint8_t, 1> panel_min_;
};

/// Packs B [N, K] (a contiguous or row-strided view) for the int8 GEMM.
[[nodiscard]] PackedInt8Weights pack_int8_weights(TensorView<const std::int8_t, 2> b,
                                                  const float* scales = nullptr);

/// What an int8 GEMM epilogue promises: given an s32 tile T (rows x cols, row stride ld) for
/// output rows [m0, m0 + rows) and columns [n0, n0 + cols), with T[i, j] = Σ_k u[m0 + i, k]
/// B[n0 + j, k] (u = a for u8 activations, a + 128 for s8), write the final values. Called once
/// per output element; calls for disjoint columns may come from several threads at once (a
/// threaded GEMM), so it must write only the tile's own outputs. Must not throw.
template <class E>
concept Int8Epilogue = requires(const E& e, std::size_t i, const std::int32_t* t) {
  { e(i, i, i, i, t, i) } -> std::same_as<void>;
};

/// Raw s32: C[m, n] = Σ_k a[m, k] B[n, k], exact, for u8 or s8 activations.
struct StoreS32 {
  std::int32_t* c;
  std::size_t ldc;
  const std::int32_t* col_sums;  ///< PackedInt8Weights::column_sums()
  std::int32_t a_offset;         ///< 0 for u8 activations, 128 for s8
  void operator()(std::size_t m0, std::size_t rows, std::size_t n0, std::size_t cols,
                  const std::int32_t* t, std::size_t ld) const noexcept {
    for (std::size_t i = 0; i < rows; ++i)
      for (std::size_t j = 0; j < cols; ++j)
        c[(m0 + i) * ldc + n0 + j] = t[i * ld + j] - a_offset * col_sums[n0 + j];
  }
};
static_assert(Int8Epilogue<StoreS32>);

/// y[m, n] = fma(Σ_k (a[m,k] - z_m) B[n,k], s_m w_n, bias[n]): the dequantized f32 product with
/// per-row activation scale s_m and zero point z_m, per-column weight scale w_n, optional bias.
struct DequantF32 {
  float* y;
  std::size_t ldy;
  const float* row_scales;        ///< s_m
  const std::int32_t* row_zeros;  ///< z_m (u8 activations), or null for 0
  std::int32_t a_offset;          ///< 0 for u8 activations, 128 for s8
  const std::int32_t* col_sums;   ///< PackedInt8Weights::column_sums()
  const float* col_scales;        ///< w_n, or null for 1
  const float* bias;              ///< or null
  [[nodiscard]] float value(std::size_t m, std::size_t n, std::int32_t t) const noexcept {
    const std::int32_t z = (row_zeros ? row_zeros[m] : 0) + a_offset;
    const std::int32_t acc = t - z * col_sums[n];
    const float s = row_scales[m] * (col_scales ? col_scales[n] : 1.0f);
    return std::fma(static_cast<float>(acc), s, bias ? bias[n] : 0.0f);
  }
  void operator()(std::size_t m0, std::size_t rows, std::size_t n0, std::size_t cols,
                  const std::int32_t* t, std::size_t ld) const noexcept {
    for (std::size_t i = 0; i < rows; ++i) {
      const std::size_t m = m0 + i;
      const std::int32_t z = (row_zeros ? row_zeros[m] : 0) + a_offset;
      const float sm = row_scales[m];
      float* out = y + m * ldy + n0;
      const std::int32_t* tr = t + i * ld;
      for (std::size_t j = 0; j < cols; ++j) {
        const std::size_t n = n0 + j;
        const std::int32_t acc = tr[j] - z * col_sums[n];
        out[j] = std::fma(static_cast<float>(acc), sm * (col_scales ? col_scales[n] : 1.0f),
                          bias ? bias[n] : 0.0f);
      }
    }
  }
};
static_assert(Int8Epilogue<DequantF32>);

/// Requantized output: q[m, n] = clamp(nearbyint(y[m, n] / out.scale) + out.zero_point) in the
/// range of Code (u8 or s8), with y as DequantF32 computes it.
template <class Code>
struct Requant {
  static_assert(std::is_same_v<Code, std::uint8_t> || std::is_same_v<Code, std::int8_t>,
                "Requant writes u8 or s8 codes");
  Code* q;
  std::size_t ldq;
  DequantF32 dequant;  ///< its y / ldy are unused
  QuantParams out;
  void operator()(std::size_t m0, std::size_t rows, std::size_t n0, std::size_t cols,
                  const std::int32_t* t, std::size_t ld) const noexcept {
    constexpr float lo = std::is_same_v<Code, std::uint8_t> ? 0.0f : -128.0f;
    constexpr float hi = std::is_same_v<Code, std::uint8_t> ? 255.0f : 127.0f;
    const float inv = 1.0f / out.scale;
    for (std::size_t i = 0; i < rows; ++i)
      for (std::size_t j = 0; j < cols; ++j) {
        const float y = dequant.value(m0 + i, n0 + j, t[i * ld + j]);
        const float r = std::nearbyint(y * inv) + static_cast<float>(out.zero_point);
        q[(m0 + i) * ldq + n0 + j] = static_cast<Code>(std::clamp(r, lo, hi));
      }
  }
};
static_assert(Int8Epilogue<Requant<std::uint8_t>>);

namespace kernels {

/// Independent reference on the unpacked operands: C[m, n] = Σ_k a[m, k] b[n, k] (int64, then
/// narrowed; exact for K <= PackedInt8Weights::max_k).
template <class A>
inline void gemm_int8_reference(const A* a, std::size_t m, std::size_t lda, const std::int8_t* b,
                                std::size_t n, std::size_t ldb, std::size_t k, std::int32_t* c,
                                std::size_t ldc) noexcept {
  static_assert(std::is_same_v<A, std::uint8_t> || std::is_same_v<A, std::int8_t>);
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t j = 0; j < n; ++j) {
      std::int64_t s = 0;
      for (std::size_t kk = 0; kk < k; ++kk)
        s += static_cast<std::int64_t>(a[i * lda + kk]) * b[j * ldb + kk];
      c[i * ldc + j] = static_cast<std::int32_t>(s);
    }
}

namespace detail {

/// Adds the last K % 4 products (k from K / 4 * 4 to K) of rows x (16 * pn) columns of panels
/// starting at `b` to a tile: the SIMD micro-kernels do whole groups of 4 only.
inline void add_k_tail(const std::uint8_t* a, std::size_t lda, std::size_t rows, std::size_t k,
                       std::uint32_t flip, const std::int8_t* b, std::size_t pn,
                       std::size_t panel_stride, std::int32_t* t, std::size_t ld) noexcept {
  const std::size_t k0 = k / 4 * 4;
  if (k0 == k) return;
  const auto fb = static_cast<std::uint8_t>(flip);
  for (std::size_t i = 0; i < rows; ++i)
    for (std::size_t p = 0; p < pn; ++p) {
      const std::int8_t* bk = b + p * panel_stride + (k0 / 4) * 64;
      for (std::size_t c = 0; c < 16; ++c) {
        std::int32_t s = 0;
        for (std::size_t kk = k0; kk < k; ++kk)
          s += static_cast<std::uint8_t>(a[i * lda + kk] ^ fb) * bk[c * 4 + kk - k0];
        t[i * ld + p * 16 + c] += s;
      }
    }
}

/// Output tile buffer: up to 32 rows x 64 columns of s32 (the largest micro-tile of any path).
struct alignas(64) TileBuffer {
  static constexpr std::size_t ld = 64;
  std::int32_t v[32 * ld];
};

// ---------------------------------------------------------------------------------- scalar
inline void scalar_tile(const std::uint8_t* a, std::size_t lda, std::size_t rows, std::size_t k,
                        std::uint32_t flip, const PackedInt8Weights& b, std::size_t p,
                        std::int32_t* t, std::size_t ld) noexcept {
  const std::int8_t* bp = b.data() + p * b.panel_stride();
  const auto fb = static_cast<std::uint8_t>(flip);
  for (std::size_t i = 0; i < rows; ++i) {
    std::int32_t acc[16] = {};
    const std::uint8_t* ar = a + i * lda;
    for (std::size_t kk = 0; kk < k; ++kk) {
      const std::int32_t u = static_cast<std::uint8_t>(ar[kk] ^ fb);
      const std::int8_t* bk = bp + (kk / 4) * 64 + kk % 4;
      for (std::size_t c = 0; c < 16; ++c) acc[c] += u * bk[c * 4];
    }
    std::copy_n(acc, 16, t + i * ld);
  }
}

// Each path computes the panels [p_begin, p_end) of B (16 columns each), so that threads can
// share out the columns of C.
template <Int8Epilogue E>
void gemm_scalar(const std::uint8_t* a, std::size_t m, std::size_t lda, std::uint32_t flip,
                 const PackedInt8Weights& b, const E& epi, std::size_t p_begin, std::size_t p_end) {
  TileBuffer tile;
  for (std::size_t p = p_begin; p < p_end; ++p) {
    const std::size_t n0 = p * 16, cols = std::min<std::size_t>(16, b.n() - n0);
    for (std::size_t m0 = 0; m0 < m; m0 += 8) {
      const std::size_t rows = std::min<std::size_t>(8, m - m0);
      scalar_tile(a + m0 * lda, lda, rows, b.k(), flip, b, p, tile.v, TileBuffer::ld);
      epi(m0, rows, n0, cols, tile.v, TileBuffer::ld);
    }
  }
}

#if PARE_SIMD_X86
// ---------------------------------------------------------------------------------- VNNI
/// How far ahead (bytes) of its k4 step a micro-tile that streams B from memory prefetches: each
/// k4 step reads one 64-byte line per panel, and DRAM latency x one core's bandwidth is ~3 KiB,
/// so 64 lines. Only the first micro-tile of a row block streams (`stream`); the others find the
/// slice in L1. Measured (Zen 5, cold 4096² GEMV, read probe 33 GB/s): the avx2 path reads
/// 20 GB/s at 16 lines ahead, 30 at 64 (128: no better); M = 16, K = N = 4096 gains ~2x too.
inline constexpr std::size_t stream_ahead = 64 * 64;

/// MR rows x NRV panels (16 columns each) of accumulators; k from 0 to k, A rows at stride lda.
// Loops over MR and NRV carry `#pragma GCC unroll`: without it GCC keeps the accumulator array
// on the stack and reloads it every k step (3x slower). Only whole groups of 4 k: a second loop
// over acc for the K % 4 tail makes GCC 12 spill the accumulators too; add_k_tail does it after.
template <int MR, int NRV, bool Signed>
__attribute__((target("avx512f,avx512bw,avx512vnni"))) void vnni_tile(
    const std::uint8_t* a, std::size_t lda, std::size_t k, const std::int8_t* b,
    std::size_t panel_stride, std::int32_t* t, std::size_t ld, bool accumulate,
    bool stream) noexcept {
  constexpr std::uint32_t flip = Signed ? 0x80808080u : 0u;
  const __m512i flipv = _mm512_set1_epi32(static_cast<int>(flip));
  __m512i acc[MR][NRV];
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
    for (int j = 0; j < NRV; ++j)
      acc[i][j] = accumulate ? _mm512_loadu_si512(t + i * ld + j * 16) : _mm512_setzero_si512();
  const std::size_t k4 = k / 4;
  const std::int8_t* bq = b;
  for (std::size_t q = 0; q < k4; ++q, bq += 64) {
    __m512i bv[NRV];
#pragma GCC unroll 4
    for (int j = 0; j < NRV; ++j) bv[j] = _mm512_load_si512(bq + j * panel_stride);
    if (stream)
#pragma GCC unroll 4
      for (int j = 0; j < NRV; ++j)
        _mm_prefetch(reinterpret_cast<const char*>(bq + j * panel_stride + stream_ahead),
                     _MM_HINT_T0);
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) {
      std::uint32_t d;
      std::memcpy(&d, a + i * lda + 4 * q, 4);
      __m512i av = _mm512_set1_epi32(static_cast<int>(d));
      if constexpr (Signed) av = _mm512_xor_si512(av, flipv);
#pragma GCC unroll 4
      for (int j = 0; j < NRV; ++j) acc[i][j] = _mm512_dpbusd_epi32(acc[i][j], av, bv[j]);
    }
  }
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
    for (int j = 0; j < NRV; ++j) _mm512_storeu_si512(t + i * ld + j * 16, acc[i][j]);
}

using VnniTileFn = void (*)(const std::uint8_t*, std::size_t, std::size_t, const std::int8_t*,
                            std::size_t, std::int32_t*, std::size_t, bool, bool) noexcept;

inline constexpr int vnni_mr = 8;   // rows per micro-tile
inline constexpr int vnni_nrv = 3;  // panels per micro-tile (48 columns); 24 zmm accumulators

template <int MR, bool S>
constexpr std::array<VnniTileFn, 4> vnni_row_table() {
  return {&vnni_tile<MR, 1, S>, &vnni_tile<MR, 2, S>, &vnni_tile<MR, 3, S>, &vnni_tile<MR, 4, S>};
}
template <bool S>
inline constexpr std::array<std::array<VnniTileFn, 4>, 8> vnni_table = {
    vnni_row_table<1, S>(), vnni_row_table<2, S>(), vnni_row_table<3, S>(), vnni_row_table<4, S>(),
    vnni_row_table<5, S>(), vnni_row_table<6, S>(), vnni_row_table<7, S>(), vnni_row_table<8, S>()};

// k per block: the 48-column B slice (24 KiB) stays in L1 while the row block's micro-tiles pass
// over it; A's slice (96 x 512 = 48 KiB) comes from L2. k = 512 measured 5-8% faster than 256
// (1024³ and the Linear shapes of the benchmark, Zen 5).
inline constexpr std::size_t vnni_kc = 512;
inline constexpr std::size_t vnni_mc = 96;  // rows per block
inline constexpr std::size_t ymm_kc = 256;  // the ymm paths' k block (one-panel B slice: 4 KiB)

/// GotoBLAS-style blocking: for each block of rows (mc) and group of 3 panels, k runs in slices
/// of kc so that the 24 KiB B slice stays in L1 while every micro-tile of the row block passes
/// over it; partial sums wait in an s32 block (mc x 64; raw s32 output: in C) until the epilogue.
/// The GEMV (M <= one micro-tile) streams all of K at once instead: nothing to reuse, one pass over
/// the weights.
template <Int8Epilogue E>
void gemm_vnni(const std::uint8_t* a, std::size_t m, std::size_t lda, std::uint32_t flip,
               const PackedInt8Weights& b, const E& epi, std::size_t p_begin, std::size_t p_end) {
  struct alignas(64) Block {
    std::int32_t v[vnni_mc * 64];
  };
  auto block = std::make_unique<Block>();
  std::int32_t* t = block->v;
  const std::size_t np = p_end, ps = b.panel_stride(), k = b.k(), kfull = k / 4 * 4;
  const std::size_t kc =
      m <= static_cast<std::size_t>(vnni_mr) ? std::max<std::size_t>(kfull, 4) : vnni_kc;
  const auto& table = flip ? vnni_table<true> : vnni_table<false>;
  for (std::size_t mb = 0; mb < m; mb += vnni_mc) {
    const std::size_t me = std::min(m, mb + vnni_mc);
    for (std::size_t p = p_begin; p < np; p += vnni_nrv) {
      const std::size_t pn = std::min<std::size_t>(vnni_nrv, np - p);
      const std::size_t n0 = p * 16, cols = std::min(pn * 16, b.n() - n0);
      const std::int8_t* bp = b.data() + p * ps;
      // Raw s32 output over whole micro-tile widths: the tiles accumulate in C itself, which
      // saves the block's round trip through `t` and the epilogue's pass (~10% at 1024³).
      std::int32_t* tt = t;
      std::size_t ld = 64;
      if constexpr (std::is_same_v<E, StoreS32>)
        if (cols == pn * 16) {
          tt = epi.c + mb * epi.ldc + n0;
          ld = epi.ldc;
        }
      std::size_t k0 = 0;
      do {  // at least once, so that K < 4 still initializes the block
        const std::size_t kl = std::min(kc, kfull - k0);
        for (std::size_t m0 = mb; m0 < me; m0 += vnni_mr) {
          const std::size_t rows = std::min<std::size_t>(vnni_mr, me - m0);
          table[rows - 1][pn - 1](a + m0 * lda + k0, lda, kl, bp + k0 * 16, ps, tt + (m0 - mb) * ld,
                                  ld, k0 > 0, m0 == mb);
        }
        k0 += kc;
      } while (k0 < kfull);
      add_k_tail(a + mb * lda, lda, me - mb, k, flip, bp, pn, ps, tt, ld);
      if constexpr (std::is_same_v<E, StoreS32>) {
        if (tt != t) {
          if (epi.a_offset != 0)
            for (std::size_t r = 0; r < me - mb; ++r)
              for (std::size_t c = 0; c < cols; ++c)
                tt[r * ld + c] -= epi.a_offset * epi.col_sums[n0 + c];
          continue;
        }
      }
      epi(mb, me - mb, n0, cols, t, 64);
    }
  }
}

// ---------------------------------------------------------------------------------- AVX-VNNI
/// The VNNI micro-tile on ymm (VEX `vpdpbusd`, AVX-VNNI): MR rows x NRV halves of a panel (8
/// columns each). 6 x 2 = 12 accumulators, 2 B registers and 1 broadcast fit in 16 ymm.
template <int MR, int NRV, bool Signed>
__attribute__((target("avx2,avxvnni"))) void avxvnni_tile(const std::uint8_t* a, std::size_t lda,
                                                          std::size_t k, const std::int8_t* b,
                                                          std::size_t, std::int32_t* t,
                                                          std::size_t ld, bool accumulate,
                                                          bool stream) noexcept {
  const __m256i flipv = _mm256_set1_epi32(static_cast<int>(0x80808080u));
  __m256i acc[MR][NRV];
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 2
    for (int j = 0; j < NRV; ++j)
      acc[i][j] = accumulate
                      ? _mm256_load_si256(reinterpret_cast<const __m256i*>(t + i * ld + j * 8))
                      : _mm256_setzero_si256();
  const std::size_t k4 = k / 4;
  const std::int8_t* bq = b;
  for (std::size_t q = 0; q < k4; ++q, bq += 64) {
    __m256i bv[NRV];
#pragma GCC unroll 2
    for (int j = 0; j < NRV; ++j)
      bv[j] = _mm256_load_si256(reinterpret_cast<const __m256i*>(bq + j * 32));
    if (stream) _mm_prefetch(reinterpret_cast<const char*>(bq + stream_ahead), _MM_HINT_T0);
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) {
      std::uint32_t d;
      std::memcpy(&d, a + i * lda + 4 * q, 4);
      __m256i av = _mm256_set1_epi32(static_cast<int>(d));
      if constexpr (Signed) av = _mm256_xor_si256(av, flipv);
#pragma GCC unroll 2
      for (int j = 0; j < NRV; ++j) acc[i][j] = _mm256_dpbusd_avx_epi32(acc[i][j], av, bv[j]);
    }
  }
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 2
    for (int j = 0; j < NRV; ++j)
      _mm256_store_si256(reinterpret_cast<__m256i*>(t + i * ld + j * 8), acc[i][j]);
}

/// One row (the GEMV): four accumulators, even and odd k4 steps apart, so that two `vpdpbusd`
/// latencies overlap instead of two dependent chains limiting the weight stream.
template <bool Signed>
__attribute__((target("avx2,avxvnni"))) void avxvnni_row(const std::uint8_t* a, std::size_t,
                                                         std::size_t k, const std::int8_t* b,
                                                         std::size_t, std::int32_t* t, std::size_t,
                                                         bool accumulate, bool) noexcept {
  const __m256i flipv = _mm256_set1_epi32(static_cast<int>(0x80808080u));
  __m256i acc0 =
      accumulate ? _mm256_load_si256(reinterpret_cast<const __m256i*>(t)) : _mm256_setzero_si256();
  __m256i acc1 = accumulate ? _mm256_load_si256(reinterpret_cast<const __m256i*>(t + 8))
                            : _mm256_setzero_si256();
  __m256i acc2 = _mm256_setzero_si256(), acc3 = _mm256_setzero_si256();
  const std::size_t k4 = k / 4;
  std::size_t q = 0;
  // (Lambdas would not inherit the target attribute.)
  __m256i av[2];
  for (; q < k4; q += 2) {
    const int steps = q + 1 < k4 ? 2 : 1;
    for (int u = 0; u < steps; ++u) {
      std::uint32_t d;
      std::memcpy(&d, a + 4 * (q + static_cast<std::size_t>(u)), 4);
      av[u] = _mm256_set1_epi32(static_cast<int>(d));
      if constexpr (Signed) av[u] = _mm256_xor_si256(av[u], flipv);
    }
    const std::int8_t* bq = b + q * 64;
    acc0 = _mm256_dpbusd_avx_epi32(acc0, av[0],
                                   _mm256_load_si256(reinterpret_cast<const __m256i*>(bq)));
    acc1 = _mm256_dpbusd_avx_epi32(acc1, av[0],
                                   _mm256_load_si256(reinterpret_cast<const __m256i*>(bq + 32)));
    if (steps == 2) {
      acc2 = _mm256_dpbusd_avx_epi32(acc2, av[1],
                                     _mm256_load_si256(reinterpret_cast<const __m256i*>(bq + 64)));
      acc3 = _mm256_dpbusd_avx_epi32(acc3, av[1],
                                     _mm256_load_si256(reinterpret_cast<const __m256i*>(bq + 96)));
    }
  }
  _mm256_store_si256(reinterpret_cast<__m256i*>(t), _mm256_add_epi32(acc0, acc2));
  _mm256_store_si256(reinterpret_cast<__m256i*>(t + 8), _mm256_add_epi32(acc1, acc3));
}

inline constexpr int avxvnni_mr = 6;  // rows per micro-tile; one panel (16 columns) wide

template <bool S>
inline constexpr std::array<VnniTileFn, 6> avxvnni_table = {
    &avxvnni_row<S>,        &avxvnni_tile<2, 2, S>, &avxvnni_tile<3, 2, S>,
    &avxvnni_tile<4, 2, S>, &avxvnni_tile<5, 2, S>, &avxvnni_tile<6, 2, S>};

/// The blocking of gemm_vnni with the 6 x 16 ymm micro-tile: k slices of 256 (a 4 KiB B slice),
/// rows in blocks of 96.
template <Int8Epilogue E>
void gemm_avxvnni(const std::uint8_t* a, std::size_t m, std::size_t lda, std::uint32_t flip,
                  const PackedInt8Weights& b, const E& epi, std::size_t p_begin,
                  std::size_t p_end) {
  struct alignas(64) Block {
    std::int32_t v[vnni_mc * 16];
  };
  auto block = std::make_unique<Block>();
  std::int32_t* t = block->v;
  const std::size_t ps = b.panel_stride(), k = b.k(), kfull = k / 4 * 4;
  const std::size_t kc =
      m <= static_cast<std::size_t>(avxvnni_mr) ? std::max<std::size_t>(kfull, 4) : ymm_kc;
  const auto& table = flip ? avxvnni_table<true> : avxvnni_table<false>;
  for (std::size_t mb = 0; mb < m; mb += vnni_mc) {
    const std::size_t me = std::min(m, mb + vnni_mc);
    for (std::size_t p = p_begin; p < p_end; ++p) {
      const std::size_t n0 = p * 16, cols = std::min<std::size_t>(16, b.n() - n0);
      const std::int8_t* bp = b.data() + p * ps;
      std::size_t k0 = 0;
      do {
        const std::size_t kl = std::min(kc, kfull - k0);
        for (std::size_t m0 = mb; m0 < me; m0 += avxvnni_mr) {
          const std::size_t rows = std::min<std::size_t>(avxvnni_mr, me - m0);
          table[rows - 1](a + m0 * lda + k0, lda, kl, bp + k0 * 16, ps, t + (m0 - mb) * 16, 16,
                          k0 > 0, m0 == mb);
        }
        k0 += kc;
      } while (k0 < kfull);
      add_k_tail(a + mb * lda, lda, me - mb, k, flip, bp, 1, ps, t, 16);
      epi(mb, me - mb, n0, cols, t, 16);
    }
  }
}

// ---------------------------------------------------------------------------------- AVX2
// Exact without VNNI. The tile multiplies s8 activations s = u - 128 by the weights: `vpmaddubsw`
// on |s| (u8, <= 128) and sign(b, s) (s8) cannot saturate, since its s16 pair sums lie in
// [2 * 128 * -128, 2 * 128 * 127] = [-32768, 32512]; `vpmaddwd` with ones then adds the two pairs
// of each column into s32 lanes (column order, no final horizontal sum). The one wrong product is
// sign(-128, s < 0), which wraps to -128: the tile uses max(b, -127) instead and, in panels that
// hold a -128 (PackedInt8Weights::panel_has_min), adds s * [b == -128] * -1 with a second
// `vpmaddubsw`. The driver adds 128 Σ_k b back to turn Σ s b into Σ u b.

/// s = a ^ fb and |s| (u8; |-128| = 128) for k bytes: 32 at a time, the rest one by one.
__attribute__((target("avx2"))) inline void avx2_sign_magnitude(const std::uint8_t* a,
                                                                std::size_t k, std::uint8_t fb,
                                                                std::int8_t* sgn,
                                                                std::uint8_t* mag) noexcept {
  const __m256i fv = _mm256_set1_epi8(static_cast<char>(fb));
  std::size_t kk = 0;
  for (; kk + 32 <= k; kk += 32) {
    const __m256i v =
        _mm256_xor_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + kk)), fv);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(sgn + kk), v);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(mag + kk), _mm256_abs_epi8(v));
  }
  for (; kk < k; ++kk) {
    const auto v = static_cast<std::int8_t>(a[kk] ^ fb);
    sgn[kk] = v;
    mag[kk] = static_cast<std::uint8_t>(v < 0 ? -v : v);
  }
}

/// A row block of A as the tile reads it: for each row, |s| then s (s = u - 128), k padded to 4.
/// Every thread converts the rows it needs (the whole block: threads split columns), M x K bytes
/// of vector work next to the tiles' M x N x K.
struct Avx2APanel {
  std::vector<std::uint8_t> mag;
  std::vector<std::int8_t> sgn;
  std::size_t ld = 0;
  void pack(const std::uint8_t* a, std::size_t lda, std::size_t rows, std::size_t k,
            std::uint32_t flip) {
    ld = (k / 4 + 1) * 4;
    if (mag.size() < rows * ld) {
      mag.resize(rows * ld);
      sgn.resize(rows * ld);
    }
    const auto fb = static_cast<std::uint8_t>(flip ^ 0x80u);
    for (std::size_t i = 0; i < rows; ++i)
      avx2_sign_magnitude(a + i * lda, k, fb, sgn.data() + i * ld, mag.data() + i * ld);
  }
};

template <int MR, bool Fix>
__attribute__((target("avx2"))) void avx2_tile(const std::uint8_t* am, const std::int8_t* as,
                                               std::size_t lda, std::size_t k, const std::int8_t* b,
                                               std::int32_t* t, std::size_t ld, bool accumulate,
                                               bool stream) noexcept {
  const __m256i ones = _mm256_set1_epi16(1);
  const __m256i lo = _mm256_set1_epi8(-127);
  const __m256i minv = _mm256_set1_epi8(-128);
  __m256i acc[MR][2];
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 2
    for (int j = 0; j < 2; ++j)
      acc[i][j] = accumulate
                      ? _mm256_load_si256(reinterpret_cast<const __m256i*>(t + i * ld + j * 8))
                      : _mm256_setzero_si256();
  const std::size_t k4 = k / 4;
  const std::int8_t* bq = b;
  for (std::size_t q = 0; q < k4; ++q, bq += 64) {
    if (stream) _mm_prefetch(reinterpret_cast<const char*>(bq + stream_ahead), _MM_HINT_T0);
    __m256i bv[2], ev[2];
#pragma GCC unroll 2
    for (int j = 0; j < 2; ++j) {
      const __m256i raw = _mm256_load_si256(reinterpret_cast<const __m256i*>(bq + j * 32));
      if constexpr (Fix) {
        ev[j] = _mm256_cmpeq_epi8(raw, minv);
        bv[j] = _mm256_max_epi8(raw, lo);
      } else {
        bv[j] = raw;
      }
    }
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) {
      std::uint32_t dm, ds;
      std::memcpy(&dm, am + i * lda + 4 * q, 4);
      std::memcpy(&ds, as + i * lda + 4 * q, 4);
      const __m256i mv = _mm256_set1_epi32(static_cast<int>(dm));
      const __m256i sv = _mm256_set1_epi32(static_cast<int>(ds));
#pragma GCC unroll 2
      for (int j = 0; j < 2; ++j) {
        const __m256i p = _mm256_maddubs_epi16(mv, _mm256_sign_epi8(bv[j], sv));
        acc[i][j] = _mm256_add_epi32(acc[i][j], _mm256_madd_epi16(p, ones));
        if constexpr (Fix) {
          const __m256i e = _mm256_maddubs_epi16(mv, _mm256_sign_epi8(ev[j], sv));
          acc[i][j] = _mm256_add_epi32(acc[i][j], _mm256_madd_epi16(e, ones));
        }
      }
    }
  }
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 2
    for (int j = 0; j < 2; ++j)
      _mm256_store_si256(reinterpret_cast<__m256i*>(t + i * ld + j * 8), acc[i][j]);
}

using Avx2TileFn = void (*)(const std::uint8_t*, const std::int8_t*, std::size_t, std::size_t,
                            const std::int8_t*, std::int32_t*, std::size_t, bool, bool) noexcept;

inline constexpr int avx2_mr = 4;  // rows per micro-tile; one panel wide (8 accumulators)

template <bool Fix>
inline constexpr std::array<Avx2TileFn, 4> avx2_table = {&avx2_tile<1, Fix>, &avx2_tile<2, Fix>,
                                                         &avx2_tile<3, Fix>, &avx2_tile<4, Fix>};

/// The blocking of gemm_vnni (k slices of 256, rows in blocks of 96) on the 4 x 16 tile, with A's
/// row block converted once (Avx2APanel) and reused by every panel.
template <Int8Epilogue E>
void gemm_avx2(const std::uint8_t* a, std::size_t m, std::size_t lda, std::uint32_t flip,
               const PackedInt8Weights& b, const E& epi, std::size_t p_begin, std::size_t p_end) {
  struct alignas(64) Block {
    std::int32_t v[vnni_mc * 16];
  };
  auto block = std::make_unique<Block>();
  std::int32_t* t = block->v;
  Avx2APanel ap;
  const std::size_t ps = b.panel_stride(), k = b.k(), kfull = k / 4 * 4;
  const std::size_t kc =
      m <= static_cast<std::size_t>(avx2_mr) ? std::max<std::size_t>(kfull, 4) : ymm_kc;
  for (std::size_t mb = 0; mb < m; mb += vnni_mc) {
    const std::size_t me = std::min(m, mb + vnni_mc);
    ap.pack(a + mb * lda, lda, me - mb, kfull, flip);
    for (std::size_t p = p_begin; p < p_end; ++p) {
      const std::size_t n0 = p * 16, cols = std::min<std::size_t>(16, b.n() - n0);
      const std::int8_t* bp = b.data() + p * ps;
      const auto& table = b.panel_has_min(p) ? avx2_table<true> : avx2_table<false>;
      std::size_t k0 = 0;
      do {
        const std::size_t kl = std::min(kc, kfull - k0);
        for (std::size_t m0 = mb; m0 < me; m0 += avx2_mr) {
          const std::size_t rows = std::min<std::size_t>(avx2_mr, me - m0);
          const std::size_t off = (m0 - mb) * ap.ld + k0;
          table[rows - 1](ap.mag.data() + off, ap.sgn.data() + off, ap.ld, kl, bp + k0 * 16,
                          t + (m0 - mb) * 16, 16, k0 > 0, m0 == mb);
        }
        k0 += kc;
      } while (k0 < kfull);
      // Σ_k<kfull s b + 128 Σ_k<kfull b = Σ_k<kfull u b; then the K % 4 tail in u directly.
      std::int32_t bsum[16];
      for (std::size_t c = 0; c < 16; ++c) {
        bsum[c] = b.column_sums()[n0 + c];
        for (std::size_t kk = kfull; kk < k; ++kk)
          bsum[c] -= bp[(kfull / 4) * 64 + c * 4 + kk - kfull];
      }
      for (std::size_t i = 0; i < me - mb; ++i)
        for (std::size_t c = 0; c < 16; ++c) t[i * 16 + c] += 128 * bsum[c];
      add_k_tail(a + mb * lda, lda, me - mb, k, flip, bp, 1, ps, t, 16);
      epi(mb, me - mb, n0, cols, t, 16);
    }
  }
}

// ---------------------------------------------------------------------------------- AMX
/// The 64-byte tile configuration `ldtilecfg` reads (palette 1).
struct alignas(64) AmxTileConfig {
  std::uint8_t palette = 1;
  std::uint8_t start_row = 0;
  std::uint8_t reserved[14] = {};
  std::uint16_t colsb[16] = {};
  std::uint8_t rows[16] = {};
};

/// 32x32 output blocks: tiles 0-3 accumulate C (2 x 2 blocks of 16x16 s32), 4-5 hold two 16-row
/// A slices (16 x 64 bytes), 6-7 two B panels (16 k4 rows x 64 bytes, the packed layout as is).
/// A is copied 32 rows at a time into a zero-padded buffer (flipped for s8), so ragged M and K
/// need no tile reconfiguration. Untested here (no AMX on the development machine).
__attribute__((target("amx-tile,amx-int8,avx512f"))) inline void amx_block(
    const std::uint8_t* abuf, std::size_t kp, const std::int8_t* b0, const std::int8_t* b1,
    std::int32_t* t, std::size_t ld) noexcept {
  _tile_zero(0);
  _tile_zero(1);
  _tile_zero(2);
  _tile_zero(3);
  for (std::size_t kb = 0; kb < kp; kb += 64) {
    _tile_loadd(4, abuf + kb, static_cast<long>(kp));
    _tile_loadd(5, abuf + 16 * kp + kb, static_cast<long>(kp));
    _tile_loadd(6, b0 + kb * 16, 64);
    _tile_loadd(7, b1 + kb * 16, 64);
    _tile_dpbusd(0, 4, 6);
    _tile_dpbusd(1, 4, 7);
    _tile_dpbusd(2, 5, 6);
    _tile_dpbusd(3, 5, 7);
  }
  const long stride = static_cast<long>(ld * sizeof(std::int32_t));
  _tile_stored(0, t, stride);
  _tile_stored(1, t + 16, stride);
  _tile_stored(2, t + 16 * ld, stride);
  _tile_stored(3, t + 16 * ld + 16, stride);
}

__attribute__((target("amx-tile,amx-int8,avx512f"))) inline void amx_configure() noexcept {
  AmxTileConfig cfg;
  for (int i = 0; i < 8; ++i) {
    cfg.colsb[i] = 64;
    cfg.rows[i] = 16;
  }
  _tile_loadconfig(&cfg);
}

__attribute__((target("amx-tile,amx-int8,avx512f"))) inline void amx_release() noexcept {
  _tile_release();
}

template <Int8Epilogue E>
void gemm_amx(const std::uint8_t* a, std::size_t m, std::size_t lda, std::uint32_t flip,
              const PackedInt8Weights& b, const E& epi, std::size_t p_begin, std::size_t p_end) {
  TileBuffer tile;
  const std::size_t k = b.k(), kp = b.k4_padded() * 4, np = p_end, ps = b.panel_stride();
  std::vector<std::uint8_t> abuf(32 * kp);
  const auto fb = static_cast<std::uint8_t>(flip);
  amx_configure();
  for (std::size_t m0 = 0; m0 < m; m0 += 32) {
    const std::size_t rows = std::min<std::size_t>(32, m - m0);
    std::fill(abuf.begin(), abuf.end(), std::uint8_t{0});
    for (std::size_t i = 0; i < rows; ++i)
      for (std::size_t kk = 0; kk < k; ++kk)
        abuf[i * kp + kk] = static_cast<std::uint8_t>(a[(m0 + i) * lda + kk] ^ fb);
    for (std::size_t p = p_begin; p < np; p += 2) {
      const std::int8_t* b0 = b.data() + p * ps;
      const std::int8_t* b1 = p + 1 < np ? b0 + ps : b0;
      amx_block(abuf.data(), kp, b0, b1, tile.v, TileBuffer::ld);
      const std::size_t n0 = p * 16, cols = std::min<std::size_t>(32, b.n() - n0);
      epi(m0, rows, n0, cols, tile.v, TileBuffer::ld);
    }
  }
  amx_release();
}
#endif  // PARE_SIMD_X86

}  // namespace detail
}  // namespace kernels

/// C = A Bᵀ through `epi` (see Int8Epilogue), on `path` (automatic: the best this CPU runs), on
/// up to num_threads() threads (core/parallel.hpp); exact, so the same for any thread count.
/// `a` is M rows of K bytes at stride lda, u8 or (a_signed) s8 reinterpreted as bytes.
/// @pre path is available (int8_path_available), lda >= K.
template <Int8Epilogue E>
void gemm_int8(const std::uint8_t* a, std::size_t m, std::size_t lda, bool a_signed,
               const PackedInt8Weights& b, const E& epi, Int8Path path = Int8Path::automatic) {
  PARE_CHECK(lda >= b.k() || m == 0, ArgumentError, "gemm_int8: row stride ", lda,
             " < K = ", b.k());
  if (path == Int8Path::automatic) path = best_int8_path();
  PARE_CHECK(int8_path_available(path), UnsupportedError, "gemm_int8: path ", to_string(path),
             " is not available on this CPU: ", simd::cpu_report());
  if (m == 0 || b.n() == 0) return;
  const std::uint32_t flip = a_signed ? 0x80808080u : 0u;
  // Threads share out whole groups of panels (the micro-tile's width), so each output is computed
  // once, exactly, by one of them; the epilogue writes only its own columns. Each panel costs
  // 16·K multiply-adds per row, and a memory-bound GEMV at least its 16·K bytes.
  const std::size_t unit = path == Int8Path::avx512_vnni ? 3 : path == Int8Path::amx ? 2 : 1;
  const std::size_t units = (b.panels() + unit - 1) / unit;
  const std::size_t unit_cost = unit * 16 * b.k() * std::max<std::size_t>(m, 16);
  parallel_for(0, units, (std::size_t{1} << 22) / (unit_cost > 0 ? unit_cost : 1) + 1,
               [&](std::size_t lo, std::size_t hi) {
                 const std::size_t p0 = lo * unit, p1 = std::min(b.panels(), hi * unit);
                 switch (path) {
#if PARE_SIMD_X86
                   case Int8Path::amx:
                     return kernels::detail::gemm_amx(a, m, lda, flip, b, epi, p0, p1);
                   case Int8Path::avx512_vnni:
                     return kernels::detail::gemm_vnni(a, m, lda, flip, b, epi, p0, p1);
                   case Int8Path::avx_vnni:
                     return kernels::detail::gemm_avxvnni(a, m, lda, flip, b, epi, p0, p1);
                   case Int8Path::avx2:
                     return kernels::detail::gemm_avx2(a, m, lda, flip, b, epi, p0, p1);
#endif
                   default:
                     return kernels::detail::gemm_scalar(a, m, lda, flip, b, epi, p0, p1);
                 }
               });
}

/// C [M, N] s32 = A Bᵀ with u8 activations, exact.
void gemm_u8s8s32(const std::uint8_t* a, std::size_t m, std::size_t lda, const PackedInt8Weights& b,
                  std::int32_t* c, std::size_t ldc, Int8Path path = Int8Path::automatic);

/// C [M, N] s32 = A Bᵀ with s8 activations, exact.
void gemm_s8s8s32(const std::int8_t* a, std::size_t m, std::size_t lda, const PackedInt8Weights& b,
                  std::int32_t* c, std::size_t ldc, Int8Path path = Int8Path::automatic);

/// y [M, N] f32 = dequantized A Bᵀ + bias: row m of A quantized (u8 affine) with scale
/// a_scales[m] and zero point a_zeros[m] (e.g. from quantize_rows_u8; a_zeros null for 0), B's
/// per-column scales (packed with it; 1 if none), optional bias.
void gemm_u8s8_f32(const std::uint8_t* a, std::size_t m, std::size_t lda, const float* a_scales,
                   const std::int32_t* a_zeros, const PackedInt8Weights& b, const float* bias,
                   float* y, std::size_t ldy, Int8Path path = Int8Path::automatic);

/// y [M, N] f32 = dequantized A Bᵀ + bias with symmetric s8 activations (per-row scales).
void gemm_s8s8_f32(const std::int8_t* a, std::size_t m, std::size_t lda, const float* a_scales,
                   const PackedInt8Weights& b, const float* bias, float* y, std::size_t ldy,
                   Int8Path path = Int8Path::automatic);

}  // namespace pare

#ifndef PARE_COMPILED_LIB
#include "pare/kernels/gemm_int8-inl.hpp"
#endif
