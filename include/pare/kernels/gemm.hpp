// SPDX-License-Identifier: Apache-2.0
// pare — f32 matrix-matrix product C = alpha·op(A)·op(B) + beta·C on row-major (strided) views.
//
//   pare::gemm(a, b, c);         // C = A·B       A [M,K], B [K,N]
//   pare::gemm_nt(a, w, c);      // C = A·Wᵀ      W [N,K]: the Linear / torch weight layout
//   pare::gemm_tn(g, x, dw);     // C = Gᵀ·X      G [K,M]: weight gradients
//
// A blocked GEMM in the Goto/BLIS scheme, written once with xsimd for every ISA: B is packed into
// KC×NR panels (stay in L1 while a micro-kernel sweeps down A), A into MR×KC panels (a MC×KC block
// stays in L2), and an MR×NR register-tile micro-kernel does the FMAs. A transposed operand is
// just a view with swapped strides; only the packing loops care, so gemm_nt and gemm_tn cost the
// same as gemm. Not Eigen's GEMM through as_eigen: with GCC 12.2, -march=native and -Werror its
// AVX-512 packet code trips a false -Wmaybe-uninitialized (see nn/linear.hpp's history), and a
// kernel of our own lets the conv and training code pick the layout without copies.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>

#include "pare/core/error.hpp"
#include "pare/core/tensor.hpp"
#include "pare/simd/arch.hpp"
#include "pare/simd/dispatch.hpp"

namespace pare::kernels {

namespace reference {

/// C = alpha·A·B + beta·C, each entry accumulated in double and rounded once; beta = 0 ignores C
/// (NaN in C does not propagate), as BLAS does. Any strides. @pre C overlaps neither A nor B.
void gemm(TensorView<const float, 2> a, TensorView<const float, 2> b, TensorView<float, 2> c,
          float alpha = 1.0f, float beta = 0.0f) noexcept;

}  // namespace reference

/// A strided read-only matrix operand: element (i, j) at data[i·row_stride + j·col_stride].
struct GemmOperand {
  const float* data;
  std::ptrdiff_t row_stride;
  std::ptrdiff_t col_stride;
};

namespace detail {

// The packing routines are always inlined into the dispatched kernels that call them, so that
// pare_isa's per-tier objects define no symbol without an arch in its name (isa.symbols tests).
/// Copies rows [0, rows) × cols [0, depth) of `a` into panels of `MR` rows: panel q holds, for
/// each p, the MR values a(q·MR + i, p) contiguously; rows past `rows` are zero.
template <std::size_t MR>
[[gnu::always_inline]] inline void pack_a(GemmOperand a, std::size_t rows, std::size_t depth,
                                          float* dst) noexcept {
  for (std::size_t q = 0; q < rows; q += MR) {
    const std::size_t mr = std::min(MR, rows - q);
    float* panel = dst + q * depth;
    const float* src = a.data + static_cast<std::ptrdiff_t>(q) * a.row_stride;
    if (a.row_stride == 1 && mr == MR) {
      // A transposed (gemm_tn): a panel's MR values for one p are adjacent in memory.
      for (std::size_t p = 0; p < depth; ++p)
        std::copy_n(src + static_cast<std::ptrdiff_t>(p) * a.col_stride, MR, panel + p * MR);
      continue;
    }
    for (std::size_t i = 0; i < mr; ++i) {
      const float* row = src + static_cast<std::ptrdiff_t>(i) * a.row_stride;
      for (std::size_t p = 0; p < depth; ++p)
        panel[p * MR + i] = row[static_cast<std::ptrdiff_t>(p) * a.col_stride];
    }
    for (std::size_t i = mr; i < MR; ++i)
      for (std::size_t p = 0; p < depth; ++p) panel[p * MR + i] = 0.0f;
  }
}

/// Copies rows [0, depth) × cols [0, cols) of `b` into panels of `NR` columns: panel q holds, for
/// each p, the NR values b(p, q·NR + j) contiguously; columns past `cols` are zero.
template <std::size_t NR>
[[gnu::always_inline]] inline void pack_b(GemmOperand b, std::size_t depth, std::size_t cols,
                                          float* dst) noexcept {
  for (std::size_t q = 0; q < cols; q += NR) {
    const std::size_t nr = std::min(NR, cols - q);
    float* panel = dst + q * depth;
    const float* src = b.data + static_cast<std::ptrdiff_t>(q) * b.col_stride;
    if (b.col_stride == 1) {
      for (std::size_t p = 0; p < depth; ++p) {
        const float* row = src + static_cast<std::ptrdiff_t>(p) * b.row_stride;
        std::copy_n(row, nr, panel + p * NR);
        std::fill(panel + p * NR + nr, panel + (p + 1) * NR, 0.0f);
      }
      continue;
    }
    // B transposed (gemm_nt): walk each column of op(B), i.e. each row of the stored matrix.
    for (std::size_t j = 0; j < nr; ++j) {
      const float* col = src + static_cast<std::ptrdiff_t>(j) * b.col_stride;
      for (std::size_t p = 0; p < depth; ++p)
        panel[p * NR + j] = col[static_cast<std::ptrdiff_t>(p) * b.row_stride];
    }
    for (std::size_t j = nr; j < NR; ++j)
      for (std::size_t p = 0; p < depth; ++p) panel[p * NR + j] = 0.0f;
  }
}

/// The epilogue of a plain GEMM: the tile is stored as computed. An epilogue is called as
/// `epi(r, i)` on each register of row `i` of a tile (alpha·acc + beta·C) before it is stored,
/// and only for rows that exist, so it may read per-row data (a bias) at index i.
struct NoEpilogue {
  template <class B>
  B operator()(B r, std::size_t) const noexcept {
    return r;
  }
};

/// The MR × (NV·width) register tile: acc = Σ_p a_panel[p] ⊗ b_panel[p], then
/// C[0:mr, 0:nr] = epi(alpha·acc + beta·C) (beta = 0: C is not read).
template <std::size_t MR, std::size_t NV, class Arch, class Epi = NoEpilogue>
inline void micro_kernel(std::size_t depth, const float* ap, const float* bp, float alpha,
                         float beta, float* c, std::ptrdiff_t ldc, std::size_t mr, std::size_t nr,
                         const Epi& epi = {}) noexcept {
  using B = xsimd::batch<float, Arch>;
  constexpr std::size_t W = B::size;
  constexpr std::size_t NR = NV * W;
  std::array<B, MR * NV> acc;
  for (auto& x : acc) x = B(0.0f);
  for (std::size_t p = 0; p < depth; ++p) {
    std::array<B, NV> bv;
    for (std::size_t v = 0; v < NV; ++v) bv[v] = B::load_aligned(bp + v * W);
    for (std::size_t i = 0; i < MR; ++i) {
      const B av(ap[i]);
      for (std::size_t v = 0; v < NV; ++v) acc[i * NV + v] = simd::fma(av, bv[v], acc[i * NV + v]);
    }
    ap += MR;
    bp += NR;
  }
  const B va(alpha), vb(beta);
  if (mr == MR && nr == NR) {
    for (std::size_t i = 0; i < MR; ++i) {
      float* row = c + static_cast<std::ptrdiff_t>(i) * ldc;
      for (std::size_t v = 0; v < NV; ++v) {
        B r = va * acc[i * NV + v];
        if (beta != 0.0f) r = simd::fma(vb, B::load_unaligned(row + v * W), r);
        epi(r, i).store_unaligned(row + v * W);
      }
    }
    return;
  }
  // A partial tile goes through a buffer: C is read and written only where it exists.
  alignas(64) std::array<float, MR * NR> tile{};
  if (beta != 0.0f)
    for (std::size_t i = 0; i < mr; ++i)
      std::copy_n(c + static_cast<std::ptrdiff_t>(i) * ldc, nr, tile.data() + i * NR);
  for (std::size_t i = 0; i < mr; ++i)
    for (std::size_t v = 0; v < NV; ++v) {
      B r = va * acc[i * NV + v];
      if (beta != 0.0f) r = simd::fma(vb, B::load_aligned(tile.data() + i * NR + v * W), r);
      epi(r, i).store_aligned(tile.data() + i * NR + v * W);
    }
  for (std::size_t i = 0; i < mr; ++i)
    std::copy_n(tile.data() + i * NR, nr, c + static_cast<std::ptrdiff_t>(i) * ldc);
}

}  // namespace detail

/// C = alpha·A·B + beta·C for A [m, k], B [k, n] given as strided operands and C [m, n] with unit
/// column stride and row stride `ldc`. Blocked: KC-deep slices of A and B, MC rows of A and NC
/// columns of B per pack, MR × (NV·batch width) register tiles (for AVX-512, 6 × 32).
/// Accumulates in float with FMA: each entry is within gamma_k · Σ_p |a_ip b_pj| of exact (plus
/// one rounding for alpha and beta). `workspace` holds workspace_size() floats, 64-byte aligned.
/// @pre C overlaps neither A nor B; m, n, k > 0.
template <std::size_t MR = 6, std::size_t NV = 2, std::size_t KC = 256, std::size_t MC = 96,
          std::size_t NC = 2048>
struct GemmTuned {
  static_assert(MC % MR == 0, "GemmTuned needs MC to be a multiple of MR so A panels tile it");

  static constexpr std::size_t mr = MR;  ///< rows of the register tile

  template <class Arch>
  static constexpr std::size_t nr() noexcept {
    return NV * simd::lanes<Arch, float>;
  }

  /// Floats of packing space the kernel needs for `Arch`.
  template <class Arch>
  static constexpr std::size_t workspace_size() noexcept {
    constexpr std::size_t nc = (NC + nr<Arch>() - 1) / nr<Arch>() * nr<Arch>();
    return KC * MC + KC * nc;
  }

  template <class Arch>
  void operator()(Arch, std::size_t m, std::size_t n, std::size_t k, float alpha, GemmOperand a,
                  GemmOperand b, float beta, float* c, std::ptrdiff_t ldc,
                  float* workspace) const noexcept;
};

template <std::size_t MR, std::size_t NV, std::size_t KC, std::size_t MC, std::size_t NC>
template <class Arch>
void GemmTuned<MR, NV, KC, MC, NC>::operator()(Arch, std::size_t m, std::size_t n, std::size_t k,
                                               float alpha, GemmOperand a, GemmOperand b,
                                               float beta, float* c, std::ptrdiff_t ldc,
                                               float* workspace) const noexcept {
  constexpr std::size_t NR = nr<Arch>();
  float* pa = workspace;
  float* pb = workspace + KC * MC;
  for (std::size_t jc = 0; jc < n; jc += NC) {
    const std::size_t nc = std::min(NC, n - jc);
    for (std::size_t pc = 0; pc < k; pc += KC) {
      const std::size_t kc = std::min(KC, k - pc);
      // Later depth slices add to what the first one wrote.
      const float beta_here = pc == 0 ? beta : 1.0f;
      detail::pack_b<NR>({b.data + static_cast<std::ptrdiff_t>(pc) * b.row_stride +
                              static_cast<std::ptrdiff_t>(jc) * b.col_stride,
                          b.row_stride, b.col_stride},
                         kc, nc, pb);
      for (std::size_t ic = 0; ic < m; ic += MC) {
        const std::size_t mc = std::min(MC, m - ic);
        detail::pack_a<MR>({a.data + static_cast<std::ptrdiff_t>(ic) * a.row_stride +
                                static_cast<std::ptrdiff_t>(pc) * a.col_stride,
                            a.row_stride, a.col_stride},
                           mc, kc, pa);
        for (std::size_t jr = 0; jr < nc; jr += NR) {
          for (std::size_t ir = 0; ir < mc; ir += MR) {
            float* ct = c + static_cast<std::ptrdiff_t>(ic + ir) * ldc +
                        static_cast<std::ptrdiff_t>(jc + jr);
            detail::micro_kernel<MR, NV, Arch>(kc, pa + ir * kc, pb + jr * kc, alpha, beta_here, ct,
                                               ldc, std::min(MR, mc - ir), std::min(NR, nc - jr));
          }
        }
      }
    }
  }
}

/// The GEMM kernel pare's wrappers use.
using Gemm = GemmTuned<>;
PARE_DISPATCHED_KERNEL(void, GemmTuned<>::operator(),
                       (std::size_t, std::size_t, std::size_t, float, GemmOperand, GemmOperand,
                        float, float*, std::ptrdiff_t, float*),
                       const noexcept)

}  // namespace pare::kernels

namespace pare {

/// C = alpha·A·B + beta·C for A [M, K], B [K, N], C [M, N]; beta = 0 overwrites C without reading
/// it. Views may be strided (a row stride larger than the width, or transposed views). Runs on up
/// to num_threads() threads (core/parallel.hpp; small products on the calling thread), with the
/// same bits for any count, as do gemm_nt and gemm_tn.
/// @pre C overlaps neither A nor B. Shapes must agree (else ShapeError naming all three).
/// ```
/// pare::gemm(a.view(), b.view(), c.view());          // C = A·B
/// pare::gemm(a.view(), b.view(), c.view(), 1, 1);    // C += A·B
/// ```
void gemm(TensorView<const float, 2> a, TensorView<const float, 2> b, TensorView<float, 2> c,
          float alpha = 1.0f, float beta = 0.0f);

/// C = alpha·A·Bᵀ + beta·C for A [M, K], B [N, K] (a Linear layer's weight), C [M, N].
/// @pre as for gemm (else ShapeError).
void gemm_nt(TensorView<const float, 2> a, TensorView<const float, 2> b, TensorView<float, 2> c,
             float alpha = 1.0f, float beta = 0.0f);

/// C = alpha·Aᵀ·B + beta·C for A [K, M], B [K, N], C [M, N] (dW = gradᵀ·input).
/// @pre as for gemm (else ShapeError).
void gemm_tn(TensorView<const float, 2> a, TensorView<const float, 2> b, TensorView<float, 2> c,
             float alpha = 1.0f, float beta = 0.0f);

}  // namespace pare

#ifndef PARE_COMPILED_LIB
#include "pare/kernels/gemm-inl.hpp"
#endif
