// SPDX-License-Identifier: Apache-2.0
// pare — the packed double-precision GEMM under linalg/dense_f64.hpp: C = [C +] alpha·A·B with
// optional triangular structure in A, B and C.
//
// One driver serves every O(n³) step of the Hessian algorithms: the Cholesky trailing update
// (C lower -= Yᵀ·Y), the triangular inverse (A lower triangular), Lᵀ·L (A upper, B lower, C
// lower), the symmetric rank-k update of LayerHessian (A = Xᵀ from float inputs) and GPTQ's /
// SparseGPT's lazy-batch update (plain C -= E·U). The Goto/BLIS scheme of kernels/gemm.hpp, in
// double: B is packed in KC×NR panels, A in MR×KC panels, an MR×NR register tile does the FMAs.
// Triangular operands restrict each tile's k range (the zero half is never multiplied, so L·X
// costs half a GEMM) and are zeroed while packing, so the other triangle of the caller's memory
// may hold anything. A triangular C only writes its lower triangle.
#pragma once

#include <algorithm>
#include <cstddef>
#include <memory>
#include <new>

#include "pare/simd/arch.hpp"

namespace pare::linalg::detail {

/// Which part of a matrix operand may be nonzero.
enum class Tri { full, lower, upper };

/// A strided matrix operand: element (i, j) at data[i·rs + j·cs]. T is double or float (float
/// is widened while packing, which is how LayerHessian reads its f32 inputs).
template <class T>
struct Operand {
  const T* data;
  std::ptrdiff_t rs;
  std::ptrdiff_t cs;
  Tri tri = Tri::full;
  [[nodiscard]] double at(std::size_t i, std::size_t j) const noexcept {
    if ((tri == Tri::lower && j > i) || (tri == Tri::upper && j < i)) return 0.0;
    return static_cast<double>(
        data[static_cast<std::ptrdiff_t>(i) * rs + static_cast<std::ptrdiff_t>(j) * cs]);
  }
};

/// 64-byte aligned scratch for packed panels.
// Templated on the arch so that its code, emitted in pare_isa's per-tier objects, carries the
// arch in its symbols (simd/dispatch.hpp explains why that matters).
template <class Arch>
struct Scratch {
  struct Free {
    void operator()(double* p) const noexcept { ::operator delete(p, std::align_val_t{64}); }
  };
  std::unique_ptr<double, Free> p;
  std::size_t size = 0;
  double* get(std::size_t n) {
    if (n > size) {
      p.reset(static_cast<double*>(::operator new(n * sizeof(double), std::align_val_t{64})));
      size = n;
    }
    return p.get();
  }
};

/// Register-tile and cache-block sizes for an arch. AVX-512 has 32 vector registers: an 8×3
/// tile of 8-double vectors (24 accumulators, 3 B loads, 1 broadcast); 16-register ISAs take
/// 6×2 (12 accumulators). KC·NR doubles of B stay in L1 while a row of tiles runs, MC·KC of A in
/// L2, KC·NC of B in L3.
template <class Arch>
struct GemmShape {
  using B = xsimd::batch<double, Arch>;
  static constexpr std::size_t W = B::size;
  static constexpr std::size_t MR = W >= 8 ? 8 : 6;
  static constexpr std::size_t NV = W >= 8 ? 3 : 2;
  static constexpr std::size_t NR = NV * W;
  static constexpr std::size_t KC = 256;
  static constexpr std::size_t MC = MR * (W >= 8 ? 24 : 32);
  static constexpr std::size_t NC = NR * (W >= 8 ? 96 : 256);
};

/// acc = Σ_p a[p]·b[p]ᵀ over k packed steps (a: MR per step, b: NR per step), then
/// c[i][j] = (overwrite ? 0 : c[i][j]) + alpha·acc[i][j] for the whole MR×NR tile.
template <class Arch>
inline void micro_kernel(std::size_t k, const double* a, const double* b, double alpha, double* c,
                         std::ptrdiff_t ldc, bool overwrite) noexcept {
  using S = GemmShape<Arch>;
  using B = typename S::B;
  constexpr std::size_t MR = S::MR, NV = S::NV, W = S::W;
  B acc[MR][NV];
#pragma GCC unroll 8
  for (std::size_t i = 0; i < MR; ++i)
#pragma GCC unroll 4
    for (std::size_t v = 0; v < NV; ++v) acc[i][v] = B(0.0);
  for (std::size_t p = 0; p < k; ++p) {
    B bv[NV];
#pragma GCC unroll 4
    for (std::size_t v = 0; v < NV; ++v) bv[v] = B::load_aligned(b + p * S::NR + v * W);
#pragma GCC unroll 8
    for (std::size_t i = 0; i < MR; ++i) {
      const B av(a[p * MR + i]);
#pragma GCC unroll 4
      for (std::size_t v = 0; v < NV; ++v) acc[i][v] = simd::fma(av, bv[v], acc[i][v]);
    }
  }
  const B al(alpha);
#pragma GCC unroll 8
  for (std::size_t i = 0; i < MR; ++i)
#pragma GCC unroll 4
    for (std::size_t v = 0; v < NV; ++v) {
      double* dst = c + static_cast<std::ptrdiff_t>(i) * ldc + static_cast<std::ptrdiff_t>(v * W);
      const B r = overwrite ? al * acc[i][v] : simd::fma(al, acc[i][v], B::load_unaligned(dst));
      r.store_unaligned(dst);
    }
}

// The packing routines are always inlined into the dispatched kernels that call them, so that
// pare_isa's per-tier objects define no symbol without an arch in its name (isa.symbols tests).
/// Packs rows [i0, i0 + mc) × cols [p0, p0 + kc) of `a` in MR-row panels ([panel][p][MR]), zero
/// outside the matrix and outside its triangle.
template <std::size_t MR, class T>
[[gnu::always_inline]] inline void pack_a(const Operand<T>& a, std::size_t m, std::size_t i0,
                                          std::size_t mc, std::size_t p0, std::size_t kc,
                                          double* dst) noexcept {
  for (std::size_t q = 0; q < mc; q += MR) {
    double* panel = dst + q * kc;
    const std::size_t rows = std::min(MR, m - (i0 + q));
    for (std::size_t p = 0; p < kc; ++p) {
      std::size_t i = 0;
      if (a.tri == Tri::full)
        for (; i < rows; ++i)
          panel[p * MR + i] =
              static_cast<double>(a.data[static_cast<std::ptrdiff_t>(i0 + q + i) * a.rs +
                                         static_cast<std::ptrdiff_t>(p0 + p) * a.cs]);
      else
        for (; i < rows; ++i) panel[p * MR + i] = a.at(i0 + q + i, p0 + p);
      for (; i < MR; ++i) panel[p * MR + i] = 0.0;
    }
  }
}

/// Packs rows [p0, p0 + kc) × cols [j0, j0 + nc) of `b` in NR-column panels ([panel][p][NR]).
template <std::size_t NR, class T>
[[gnu::always_inline]] inline void pack_b(const Operand<T>& b, std::size_t n, std::size_t p0,
                                          std::size_t kc, std::size_t j0, std::size_t nc,
                                          double* dst) noexcept {
  for (std::size_t q = 0; q < nc; q += NR) {
    double* panel = dst + q * kc;
    const std::size_t cols = std::min(NR, n - (j0 + q));
    for (std::size_t p = 0; p < kc; ++p) {
      std::size_t j = 0;
      if (b.tri == Tri::full && b.cs == 1) {
        const T* src = b.data + static_cast<std::ptrdiff_t>(p0 + p) * b.rs +
                       static_cast<std::ptrdiff_t>(j0 + q);
        for (; j < cols; ++j) panel[p * NR + j] = static_cast<double>(src[j]);
      } else {
        for (; j < cols; ++j) panel[p * NR + j] = b.at(p0 + p, j0 + q + j);
      }
      for (; j < NR; ++j) panel[p * NR + j] = 0.0;
    }
  }
}

/// C[m×n] = (overwrite ? 0 : C) + alpha·A[m×k]·B[k×n]; C row-major with row stride ldc and unit
/// column stride. With c_lower only elements j <= i of C are written (C square, or at least
/// diagonal-aligned at (0, 0)). @pre C overlaps neither A nor B.
template <class Arch, class TA, class TB>
void gemm_driver(std::size_t m, std::size_t n, std::size_t k, double alpha, const Operand<TA>& a,
                 const Operand<TB>& b, double* c, std::ptrdiff_t ldc, bool c_lower,
                 bool overwrite) {
  using S = GemmShape<Arch>;
  constexpr std::size_t MR = S::MR, NR = S::NR, KC = S::KC, MC = S::MC, NC = S::NC;
  if (m == 0 || n == 0) return;
  Scratch<Arch> sa, sb;
  double* pa = sa.get(MC * KC);
  double* pb = sb.get(NC * KC);
  alignas(64) double tile[MR * NR];
  const std::size_t k_steps = std::max<std::size_t>(k, 1);  // k = 0 still writes when overwriting
  for (std::size_t jc = 0; jc < n; jc += NC) {
    const std::size_t nc = std::min(NC, n - jc);
    if (c_lower && jc >= m) break;
    for (std::size_t pc = 0; pc < k_steps; pc += KC) {
      const std::size_t kc = std::min(KC, k - std::min(k, pc));
      const bool first = pc == 0;
      if (kc > 0) pack_b<NR>(b, n, pc, kc, jc, nc, pb);
      for (std::size_t ic = 0; ic < m; ic += MC) {
        const std::size_t mc = std::min(MC, m - ic);
        if (c_lower && ic + mc <= jc) continue;  // the whole block is above the diagonal
        if (kc > 0) pack_a<MR>(a, m, ic, mc, pc, kc, pa);
        for (std::size_t jr = 0; jr < nc; jr += NR) {
          const std::size_t j0 = jc + jr, nr = std::min(NR, n - j0);
          for (std::size_t ir = 0; ir < mc; ir += MR) {
            const std::size_t i0 = ic + ir, mr = std::min(MR, m - i0);
            if (c_lower && i0 + mr <= j0) continue;
            // The k range this tile's nonzero products need.
            std::size_t lo = 0, hi = k;
            if (a.tri == Tri::upper) lo = std::max(lo, i0);
            if (b.tri == Tri::lower) lo = std::max(lo, j0);
            if (a.tri == Tri::lower) hi = std::min(hi, i0 + mr);
            if (b.tri == Tri::upper) hi = std::min(hi, j0 + nr);
            lo = std::clamp(lo, pc, pc + kc) - pc;
            hi = std::clamp(hi, pc, pc + kc) - pc;
            const std::size_t len = hi > lo ? hi - lo : 0;
            const bool ow = overwrite && first;
            if (len == 0 && !ow) continue;
            const double* ap = pa + ir * kc + lo * MR;
            const double* bp = pb + jr * kc + lo * NR;
            double* ct =
                c + static_cast<std::ptrdiff_t>(i0) * ldc + static_cast<std::ptrdiff_t>(j0);
            const bool crosses = c_lower && j0 + nr > i0 + 1;
            if (mr == MR && nr == NR && !crosses) {
              micro_kernel<Arch>(len, ap, bp, alpha, ct, ldc, ow);
              continue;
            }
            micro_kernel<Arch>(len, ap, bp, alpha, tile, static_cast<std::ptrdiff_t>(NR), true);
            for (std::size_t i = 0; i < mr; ++i) {
              const std::size_t jn =
                  c_lower ? std::min(nr, i0 + i + 1 - std::min(i0 + i + 1, j0)) : nr;
              double* row = ct + static_cast<std::ptrdiff_t>(i) * ldc;
              for (std::size_t j = 0; j < jn; ++j)
                row[j] = ow ? tile[i * NR + j] : row[j] + tile[i * NR + j];
            }
          }
        }
      }
    }
  }
}

}  // namespace pare::linalg::detail
