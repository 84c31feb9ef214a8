// SPDX-License-Identifier: Apache-2.0
// pare — f32 GEMM against a right-hand matrix packed once: the weights of a Linear/Gemm/MatMul
// layer that many products share.
//
//   pare::PackedGemmB w(weight_view /*[K, N]*/);      // or PackedGemmB(w.transposed()) for [N, K]
//   w.multiply(x /*[M, K]*/, y /*[M, N]*/, bias /*N floats or nullptr*/);   // y = x·W + bias
//
// pare::gemm packs B into the micro-kernel's KC × NR panels on every call; for a weight that is
// all the B there is, so for the few rows of an inference batch (M from 1 to a few hundred) the
// packing costs as much as the product. Here it is done at construction, in the order the
// product reads it, and the product is the same blocked micro-kernel loop as pare::gemm.
#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>

#include "pare/core/config.hpp"
#include "pare/core/parallel.hpp"
#include "pare/core/tensor.hpp"
#include "pare/kernels/gemm.hpp"
#include "pare/kernels/packed_tiles.hpp"
#include "pare/simd/arch.hpp"

namespace pare {

class PackedGemmB {
 public:
  PackedGemmB() = default;
  /// Packs `b` [K, N] (any strides: a transposed [N, K] view packs a torch Linear weight).
  explicit PackedGemmB(TensorView<const float, 2> b);

  [[nodiscard]] std::size_t rows() const noexcept { return k_; }  ///< K
  [[nodiscard]] std::size_t cols() const noexcept { return n_; }  ///< N

  /// c = a·B (+ bias broadcast over rows) for a [M, K] and c [M, N], both with unit column
  /// stride (rows may be strided), on up to num_threads() threads (the same result for any
  /// count). ShapeError when the extents disagree.
  /// @pre c overlaps neither a nor the bias.
  void multiply(TensorView<const float, 2> a, TensorView<float, 2> c,
                const float* bias = nullptr) const;

  /// c [m, N] (row stride ldc; with `accumulate`, added to) = A·B for an A that is never
  /// materialized: pack_a(i0, rows, p0, depth, dst) writes rows [i0, i0 + rows) × depth
  /// [p0, p0 + depth) of A as kernels::detail::pack_a<packed_mr> would (panels of packed_mr rows,
  /// each holding for every p its packed_mr values; missing rows zero). The convolution gathers
  /// its receptive fields this way. Runs on up to num_threads() threads (core/parallel.hpp), with
  /// the same result for any count: pack_a is then called from several threads at once (for
  /// different rows or the same rows) and must only write `dst`. @pre a SIMD build.
  template <class PackA>
  void multiply_with(std::size_t m, PackA&& pack_a, float* c, std::ptrdiff_t ldc,
                     bool accumulate = false) const;

  static constexpr std::size_t packed_mr = kernels::packed_tile_mr;

  /// The ISA tier the panels were packed for (their width is its register width); products run
  /// on it.
  [[nodiscard]] simd::Tier tier() const noexcept { return tier_; }

 private:
  [[nodiscard]] const float* panels() const noexcept;

  std::size_t k_ = 0, n_ = 0;
  simd::Tier tier_ = simd::Tier::scalar;
  std::vector<float> panels_;  ///< per NC block of columns, per KC slice: the NR-wide panels
};

namespace detail {

// The blocking of the packed product: pare::gemm's register tile and slices.
inline constexpr std::size_t packed_mr = PackedGemmB::packed_mr,
                             packed_nv = kernels::packed_tile_nv, packed_kc = 256, packed_mc = 96,
                             packed_nc = 2048;

template <class Arch>
constexpr std::size_t packed_nr() noexcept {
  return kernels::packed_tile_nr<Arch>;
}

// Columns of one NC block, rounded up to whole panels.
template <class Arch>
constexpr std::size_t packed_block(std::size_t nc) noexcept {
  return (nc + packed_nr<Arch>() - 1) / packed_nr<Arch>() * packed_nr<Arch>();
}

/// The multiply-adds below which a task of the packed product is not worth a thread.
inline constexpr std::size_t packed_task_madds = std::size_t{1} << 21;

/// A per-thread, 64-byte aligned buffer of at least `floats` floats for A panels.
float* packed_a_workspace(std::size_t floats);

}  // namespace detail

template <class PackA>
void PackedGemmB::multiply_with(std::size_t m, PackA&& pack_a, float* c, std::ptrdiff_t ldc,
                                bool accumulate) const {
  if constexpr (simd::has_simd) {
    if (m == 0 || n_ == 0 || k_ == 0) return;
    simd::dispatch_at(tier_, [&](auto arch) {
      using Arch = decltype(arch);
      constexpr std::size_t NR = detail::packed_nr<Arch>(), MR = detail::packed_mr;
      // Rows [i0, i1) × columns [j0, j1) of C, j0 and j1 on panel boundaries (or n_).
      auto block = [&](std::size_t i0, std::size_t i1, std::size_t j0, std::size_t j1) {
        float* pa = detail::packed_a_workspace(detail::packed_kc * detail::packed_mc);
        const float* pb = panels();
        for (std::size_t jc = 0; jc < n_; jc += detail::packed_nc) {
          const std::size_t nc = std::min(detail::packed_nc, n_ - jc);
          const std::size_t jr0 = std::clamp(j0, jc, jc + nc) - jc,
                            jr1 = std::clamp(j1, jc, jc + nc) - jc;
          for (std::size_t pc = 0; pc < k_; pc += detail::packed_kc) {
            const std::size_t kc = std::min(detail::packed_kc, k_ - pc);
            const float beta = pc > 0 || accumulate ? 1.0f : 0.0f;
            for (std::size_t ic = i0; ic < i1 && jr0 < jr1; ic += detail::packed_mc) {
              const std::size_t mc = std::min(detail::packed_mc, i1 - ic);
              pack_a(ic, mc, pc, kc, pa);
              // jr1 is a panel boundary or nc, so the sweep's last tile is as wide as the block's.
              kernels::PackedTiles{}(
                  arch, mc, jr1 - jr0, kc, pa, pb + jr0 * kc, 1.0f, beta,
                  c + static_cast<std::ptrdiff_t>(ic) * ldc + static_cast<std::ptrdiff_t>(jc + jr0),
                  ldc, nullptr, nullptr);
            }
            pb += kc * detail::packed_block<Arch>(nc);
          }
        }
      };
      // Threads take whole register-tile rows of C when there are enough of them (B is packed
      // already and shared, so nothing is done twice), else whole panels of columns (each thread
      // then packs all of the few rows of A). Either way each entry is computed as one thread
      // would, so the result does not depend on the thread count.
      const std::size_t row_units = (m + MR - 1) / MR, col_units = (n_ + NR - 1) / NR;
      const bool by_rows = row_units >= 2 * num_threads() || row_units >= col_units;
      const std::size_t unit_madds = (by_rows ? MR * n_ : NR * m) * k_;
      const std::size_t grain = detail::packed_task_madds / unit_madds + 1;
      if (by_rows)
        parallel_for(0, row_units, grain, [&](std::size_t lo, std::size_t hi) {
          block(lo * MR, std::min(m, hi * MR), 0, n_);
        });
      else
        parallel_for(0, col_units, grain, [&](std::size_t lo, std::size_t hi) {
          block(0, m, lo * NR, std::min(n_, hi * NR));
        });
    });
  } else {
    (void)m, (void)pack_a, (void)c, (void)ldc, (void)accumulate;
  }
}

}  // namespace pare

#ifndef PARE_COMPILED_LIB
#include "pare/kernels/gemm_packed-inl.hpp"
#endif
