// SPDX-License-Identifier: Apache-2.0
// pare — f32 matrix-vector product y = W x. SIMD kernel in pare::kernels, checked wrapper in pare.
//
// A 4096x4096 f32 GEMV reads 64 MiB of W once and does 2 flops per 4 bytes: it is bound by memory
// bandwidth, not arithmetic. What matters is keeping enough independent loads in flight and the
// hardware prefetcher fed; the kernel is parameterized by rows per block, batches per row and
// software-prefetch distance, and pare::kernels::Gemv is the configuration that measured best
// (docs/performance.md has the numbers behind the choice).
#pragma once

#include <array>
#include <cstddef>

#include "pare/core/tensor.hpp"
#include "pare/kernels/reference.hpp"
#include "pare/simd/arch.hpp"
#include "pare/simd/dispatch.hpp"

namespace pare::kernels {

namespace detail {

/// y[r] = sum_c W[r*ld + c] x[c] for `Rows` consecutive rows, `Unroll` batches per row per step,
/// software-prefetching each row `PrefetchBytes` ahead (0: rely on the hardware prefetcher).
template <std::size_t Rows, std::size_t Unroll, std::size_t PrefetchBytes, class Arch>
inline void gemv_rows(const float* w, std::size_t ld, const float* x, float* y,
                      std::size_t cols) noexcept {
  using B = xsimd::batch<float, Arch>;
  constexpr std::size_t width = B::size;
  constexpr std::size_t step = Unroll * width;
  std::array<B, Rows * Unroll> acc;
  for (auto& a : acc) a = B(0.0f);
  std::size_t c = 0;
  for (; c + step <= cols; c += step) {
    if constexpr (PrefetchBytes > 0) {
      // A prefetch past the end of W is harmless: prefetches never fault.
      for (std::size_t r = 0; r < Rows; ++r)
        for (std::size_t b = 0; b < step * sizeof(float); b += 64)
          __builtin_prefetch(reinterpret_cast<const char*>(w + r * ld + c) + PrefetchBytes + b, 0,
                             0);
    }
    for (std::size_t u = 0; u < Unroll; ++u) {
      const B xv = B::load_unaligned(x + c + u * width);
      for (std::size_t r = 0; r < Rows; ++r)
        acc[r * Unroll + u] =
            simd::fma(B::load_unaligned(w + r * ld + c + u * width), xv, acc[r * Unroll + u]);
    }
  }
  for (; c + width <= cols; c += width) {
    const B xv = B::load_unaligned(x + c);
    for (std::size_t r = 0; r < Rows; ++r)
      acc[r * Unroll] = simd::fma(B::load_unaligned(w + r * ld + c), xv, acc[r * Unroll]);
  }
  for (std::size_t r = 0; r < Rows; ++r) {
    B s = acc[r * Unroll];
    for (std::size_t u = 1; u < Unroll; ++u) s += acc[r * Unroll + u];
    float t = xsimd::hadd(s);
    for (std::size_t k = c; k < cols; ++k) t = simd::fma_like<Arch>(w[r * ld + k], x[k], t);
    y[r] = t;
  }
}

}  // namespace detail

/// y[r] = sum_{c < cols} W[r*ld + c] * x[c] for r < rows (W row-major with leading dimension ld).
/// `BlockRows` rows at a time, `Unroll` batches per row per step, so BlockRows * Unroll independent
/// accumulators and as many loads of W in flight per iteration; rows % BlockRows go one at a time,
/// cols % batch width through a scalar tail. Each row's sum is within gamma_cols * sum_c |W_rc x_c|
/// of exact. Use pare::kernels::Gemv; the knobs exist so bench/kernels/gemv_bench.cpp can re-tune
/// on a new CPU (its tune-* entries).
/// @pre y does not overlap W or x; ld >= cols unless rows <= 1.
template <std::size_t BlockRows, std::size_t Unroll, std::size_t PrefetchBytes>
struct GemvTuned {
  template <class Arch>
  void operator()(Arch, const float* w, std::size_t rows, std::size_t cols, std::size_t ld,
                  const float* x, float* y) const noexcept {
    std::size_t r = 0;
    for (; r + BlockRows <= rows; r += BlockRows)
      detail::gemv_rows<BlockRows, Unroll, PrefetchBytes, Arch>(w + r * ld, ld, x, y + r, cols);
    for (; r < rows; ++r)
      detail::gemv_rows<1, Unroll, PrefetchBytes, Arch>(w + r * ld, ld, x, y + r, cols);
  }
};

/// The GEMV kernel. Rows of up to 1024 floats go one at a time with 4 accumulators; longer rows
/// go 4 at a time with 2 accumulators each. Why: on Zen 4 (docs/performance.md) a single
/// sequential stream fed the hardware prefetcher best while x stayed in L1 (row blocking was up to
/// 25% slower for 1024-float rows), and once x spills to L2 (11008 floats = 43 KiB) re-reading it
/// for every row costs ~20%, which a 4-row block cuts 4x. On Zen 5 the 4-row block also won for
/// 4096-float rows (cold 4096²: 2.11 ms against 2.56 for one row at a time, on both the AVX-512
/// and AVX2 tiers), so the switch moved from 4096 to 1024 columns. Software prefetch 512 B-2 KiB
/// ahead never helped. Re-tune on other CPUs with the tune-* entries of
/// bench/kernels/gemv_bench.cpp.
struct Gemv {
  static constexpr std::size_t short_row = 1024;

  template <class Arch>
  void operator()(Arch arch, const float* w, std::size_t rows, std::size_t cols, std::size_t ld,
                  const float* x, float* y) const noexcept;
};

template <class Arch>
void Gemv::operator()(Arch arch, const float* w, std::size_t rows, std::size_t cols, std::size_t ld,
                      const float* x, float* y) const noexcept {
  if (cols <= short_row)
    GemvTuned<1, 4, 0>{}(arch, w, rows, cols, ld, x, y);
  else
    GemvTuned<4, 2, 0>{}(arch, w, rows, cols, ld, x, y);
}
PARE_DISPATCHED_KERNEL(void, Gemv::operator(),
                       (const float*, std::size_t, std::size_t, std::size_t, const float*, float*),
                       const noexcept)

}  // namespace pare::kernels

namespace pare {

/// y = W x for W of shape [rows, cols], x of [cols], y of [rows].
/// Takes the SIMD kernel when W's rows are contiguous (any non-negative row stride) and x and y are
/// contiguous; otherwise the scalar reference. The SIMD kernel shares out blocks of rows on up to
/// num_threads() threads (core/parallel.hpp) when W is large enough, with the same bits for any
/// count.
/// @pre y does not overlap W or x. Shapes must agree (else ShapeError naming all three).
/// ```
/// pare::gemv(w.view(), x.view(), y.view());
/// ```
void gemv(TensorView<const float, 2> w, TensorView<const float, 1> x, TensorView<float, 1> y);

}  // namespace pare

#ifndef PARE_COMPILED_LIB
#include "pare/kernels/gemv-inl.hpp"
#endif
