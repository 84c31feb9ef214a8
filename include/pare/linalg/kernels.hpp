// SPDX-License-Identifier: Apache-2.0
// pare — the blocked SIMD kernels behind linalg/dense_f64.hpp (Cholesky, triangular inverse, the
// Cholesky panel solve), as function objects templated on the xsimd arch, as in kernels/: the
// tests run each on every arch the CPU has. They check nothing; dense_f64.hpp's functions do.
// Only dense_f64-inl.hpp and the tests include this header, so with pare::compiled a user's
// translation unit never parses xsimd for linear algebra.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <utility>

#include "pare/linalg/detail/gemm_f64.hpp"
#include "pare/linalg/reference.hpp"
#include "pare/simd/arch.hpp"
#include "pare/simd/dispatch.hpp"

namespace pare::linalg {

namespace detail {

/// Block size of the Cholesky and the triangular inverse: the k depth of the trailing GEMM, a
/// multiple of every NR (24, 8, 4) so that the inverse's panel GEMMs have no padded columns.
inline constexpr std::size_t block_size = 96;

/// Unblocked Cholesky of the n×n block at `a` (row stride lda); zeros above the diagonal.
inline CholeskyStatus cholesky_unblocked(double* a, std::size_t n, std::ptrdiff_t lda) noexcept {
  for (std::size_t i = 0; i < n; ++i) {
    double* ri = a + static_cast<std::ptrdiff_t>(i) * lda;
    for (std::size_t j = 0; j <= i; ++j) {
      const double* rj = a + static_cast<std::ptrdiff_t>(j) * lda;
      double s = ri[j];
      for (std::size_t p = 0; p < j; ++p) s -= ri[p] * rj[p];
      if (j < i) {
        ri[j] = s / rj[j];
      } else {
        if (!(s > 0.0)) return CholeskyStatus::not_positive_definite;
        ri[i] = std::sqrt(s);
      }
    }
    std::fill(ri + i + 1, ri + n, 0.0);
  }
  return CholeskyStatus::ok;
}

/// In-place inverse of the n×n lower-triangular block at `a` (reference::invert_lower's loop).
inline void invert_lower_unblocked(double* a, std::size_t n, std::ptrdiff_t lda) noexcept {
  for (std::size_t i = 0; i < n; ++i) {
    double* ri = a + static_cast<std::ptrdiff_t>(i) * lda;
    const double inv_d = 1.0 / ri[i];
    for (std::size_t j = 0; j < i; ++j) {
      double s = 0;
      for (std::size_t p = j; p < i; ++p) s += ri[p] * a[static_cast<std::ptrdiff_t>(p) * lda + j];
      ri[j] = -s * inv_d;
    }
    ri[i] = inv_d;
  }
}

/// dst[j·ldd + r] = src[r·lds + j] for r < rows, j < cols, in 16-row strips so that both the
/// reads and the writes stay within a few cache lines.
inline void transpose(const double* src, std::ptrdiff_t lds, std::size_t rows, std::size_t cols,
                      double* dst, std::ptrdiff_t ldd) noexcept {
  constexpr std::size_t strip = 16;
  for (std::size_t r0 = 0; r0 < rows; r0 += strip) {
    const std::size_t r1 = std::min(rows, r0 + strip);
    for (std::size_t j = 0; j < cols; ++j)
      for (std::size_t r = r0; r < r1; ++r)
        dst[static_cast<std::ptrdiff_t>(j) * ldd + static_cast<std::ptrdiff_t>(r)] =
            src[static_cast<std::ptrdiff_t>(r) * lds + static_cast<std::ptrdiff_t>(j)];
  }
}

/// Element (i, j) ↔ (n−1−i, n−1−j): J·A·J with J the exchange matrix.
inline void rotate_half_turn(double* a, std::size_t n, std::ptrdiff_t lda) noexcept {
  for (std::size_t i = 0; i < n / 2; ++i) {
    double* top = a + static_cast<std::ptrdiff_t>(i) * lda;
    double* bottom = a + static_cast<std::ptrdiff_t>(n - 1 - i) * lda;
    for (std::size_t j = 0; j < n; ++j) std::swap(top[j], bottom[n - 1 - j]);
  }
  if (n % 2 == 1) {
    double* mid = a + static_cast<std::ptrdiff_t>(n / 2) * lda;
    std::reverse(mid, mid + n);
  }
}

}  // namespace detail

namespace kernels {

/// C (+)= alpha·A·B through the packed f64 GEMM (linalg/detail/gemm_f64.hpp): the dispatch
/// boundary of the products dense_f64.hpp runs outside the Cholesky and the inverse.
struct GemmF64 {
  template <class Arch, class TA, class TB>
  void operator()(Arch, std::size_t m, std::size_t n, std::size_t k, double alpha,
                  const linalg::detail::Operand<TA>& a, const linalg::detail::Operand<TB>& b,
                  double* c, std::ptrdiff_t ldc, bool c_lower, bool overwrite) const;
};

template <class Arch, class TA, class TB>
void GemmF64::operator()(Arch, std::size_t m, std::size_t n, std::size_t k, double alpha,
                         const linalg::detail::Operand<TA>& a, const linalg::detail::Operand<TB>& b,
                         double* c, std::ptrdiff_t ldc, bool c_lower, bool overwrite) const {
  linalg::detail::gemm_driver<Arch>(m, n, k, alpha, a, b, c, ldc, c_lower, overwrite);
}
PARE_DISPATCHED_KERNEL(void, GemmF64::operator(),
                       (std::size_t, std::size_t, std::size_t, double,
                        const linalg::detail::Operand<double>&,
                        const linalg::detail::Operand<double>&, double*, std::ptrdiff_t, bool,
                        bool),
                       const)
PARE_DISPATCHED_KERNEL(void, GemmF64::operator(),
                       (std::size_t, std::size_t, std::size_t, double,
                        const linalg::detail::Operand<float>&,
                        const linalg::detail::Operand<float>&, double*, std::ptrdiff_t, bool, bool),
                       const)

/// Y ← L⁻¹·Y for the kb×kb lower-triangular L (row stride ldl) and Y [kb, m] (row stride m):
/// the Cholesky panel solve in transposed form, vectorized along Y's rows.
struct ForwardSubstitute {
  template <class Arch>
  void operator()(Arch, const double* l, std::ptrdiff_t ldl, std::size_t kb, double* y,
                  std::size_t m) const noexcept;
};

template <class Arch>
void ForwardSubstitute::operator()(Arch, const double* l, std::ptrdiff_t ldl, std::size_t kb,
                                   double* y, std::size_t m) const noexcept {
  using B = xsimd::batch<double, Arch>;
  constexpr std::size_t W = B::size, V = 4;
  const auto ld = static_cast<std::ptrdiff_t>(m);
  std::size_t c = 0;
  for (; c + V * W <= m; c += V * W)
    for (std::size_t j = 0; j < kb; ++j) {
      const double* lj = l + static_cast<std::ptrdiff_t>(j) * ldl;
      double* yj = y + static_cast<std::ptrdiff_t>(j) * ld + static_cast<std::ptrdiff_t>(c);
      B acc[V];
      for (std::size_t v = 0; v < V; ++v) acc[v] = B::load_unaligned(yj + v * W);
      for (std::size_t p = 0; p < j; ++p) {
        const B lp(lj[p]);
        const double* yp = y + static_cast<std::ptrdiff_t>(p) * ld + static_cast<std::ptrdiff_t>(c);
        for (std::size_t v = 0; v < V; ++v)
          acc[v] = simd::fnma(lp, B::load_unaligned(yp + v * W), acc[v]);
      }
      const B d(lj[j]);
      for (std::size_t v = 0; v < V; ++v) (acc[v] / d).store_unaligned(yj + v * W);
    }
  for (; c < m; ++c)
    for (std::size_t j = 0; j < kb; ++j) {
      const double* lj = l + static_cast<std::ptrdiff_t>(j) * ldl;
      double s = y[static_cast<std::ptrdiff_t>(j) * ld + static_cast<std::ptrdiff_t>(c)];
      for (std::size_t p = 0; p < j; ++p)
        s -= lj[p] * y[static_cast<std::ptrdiff_t>(p) * ld + static_cast<std::ptrdiff_t>(c)];
      y[static_cast<std::ptrdiff_t>(j) * ld + static_cast<std::ptrdiff_t>(c)] = s / lj[j];
    }
}
PARE_DISPATCHED_KERNEL(void, ForwardSubstitute::operator(),
                       (const double*, std::ptrdiff_t, std::size_t, double*, std::size_t),
                       const noexcept)

/// Blocked right-looking Cholesky of the n×n matrix at `a` (row stride lda, unit column stride):
/// per block of columns, the diagonal block is factored unblocked, the panel below it solved
/// (transposed, so the solve and the next step both run along contiguous rows), and the
/// trailing lower triangle updated by the packed GEMM (A₂₂ −= L₂₁·L₂₁ᵀ). Reads the lower
/// triangle; leaves L there and zeros above.
struct Cholesky {
  template <class Arch>
  [[nodiscard]] CholeskyStatus operator()(Arch, double* a, std::size_t n, std::ptrdiff_t lda) const;
};

template <class Arch>
CholeskyStatus Cholesky::operator()(Arch, double* a, std::size_t n, std::ptrdiff_t lda) const {
  constexpr std::size_t NB = detail::block_size;
  using linalg::detail::Operand;
  using linalg::detail::Tri;
  linalg::detail::Scratch<Arch> scratch;
  for (std::size_t k = 0; k < n; k += NB) {
    const std::size_t kb = std::min(NB, n - k);
    double* a11 = a + static_cast<std::ptrdiff_t>(k) * lda + static_cast<std::ptrdiff_t>(k);
    if (detail::cholesky_unblocked(a11, kb, lda) != CholeskyStatus::ok)
      return CholeskyStatus::not_positive_definite;
    const std::size_t m = n - k - kb;
    if (m == 0) break;
    for (std::size_t r = 0; r < kb; ++r)  // A₁₂, the upper triangle's part of this block row
      std::fill_n(a11 + static_cast<std::ptrdiff_t>(r) * lda + static_cast<std::ptrdiff_t>(kb), m,
                  0.0);
    double* a21 = a11 + static_cast<std::ptrdiff_t>(kb) * lda;
    double* y = scratch.get(kb * m);
    const auto ldy = static_cast<std::ptrdiff_t>(m);
    detail::transpose(a21, lda, m, kb, y, ldy);
    ForwardSubstitute{}(Arch{}, a11, lda, kb, y, m);
    detail::transpose(y, ldy, kb, m, a21, lda);
    // A₂₂ −= Yᵀ·Y on the lower triangle, Y = L₂₁ᵀ [kb, m].
    linalg::detail::gemm_driver<Arch>(m, m, kb, -1.0, Operand<double>{y, 1, ldy, Tri::full},
                                      Operand<double>{y, ldy, 1, Tri::full},
                                      a21 + static_cast<std::ptrdiff_t>(kb), lda, true, false);
  }
  return CholeskyStatus::ok;
}
PARE_DISPATCHED_KERNEL(CholeskyStatus, Cholesky::operator(), (double*, std::size_t, std::ptrdiff_t),
                       const)

/// In-place inverse of the n×n lower-triangular matrix at `a` (LAPACK trtri's blocked lower
/// variant, last block first): X₁₁ = L₁₁⁻¹, X₂₁ = −X₂₂·(L₂₁·X₁₁), the two products on the packed
/// GEMM with the triangular halves skipped. The upper triangle is not read and not written.
struct InvertLower {
  template <class Arch>
  void operator()(Arch, double* a, std::size_t n, std::ptrdiff_t lda) const;
};

template <class Arch>
void InvertLower::operator()(Arch, double* a, std::size_t n, std::ptrdiff_t lda) const {
  constexpr std::size_t NB = detail::block_size;
  using linalg::detail::Operand;
  using linalg::detail::Tri;
  if (n == 0) return;
  linalg::detail::Scratch<Arch> s1, s2;
  for (std::size_t j = (n - 1) / NB * NB;; j -= NB) {
    const std::size_t jb = std::min(NB, n - j);
    double* a11 = a + static_cast<std::ptrdiff_t>(j) * lda + static_cast<std::ptrdiff_t>(j);
    detail::invert_lower_unblocked(a11, jb, lda);
    const std::size_t m = n - j - jb;
    if (m > 0) {
      double* a21 = a11 + static_cast<std::ptrdiff_t>(jb) * lda;
      double* t1 = s1.get(m * jb);
      double* t2 = s2.get(m * jb);
      const auto ldt = static_cast<std::ptrdiff_t>(jb);
      for (std::size_t r = 0; r < m; ++r)
        std::copy_n(a21 + static_cast<std::ptrdiff_t>(r) * lda, jb,
                    t1 + static_cast<std::ptrdiff_t>(r) * ldt);
      linalg::detail::gemm_driver<Arch>(m, jb, jb, 1.0, Operand<double>{t1, ldt, 1, Tri::full},
                                        Operand<double>{a11, lda, 1, Tri::lower}, t2, ldt, false,
                                        true);
      linalg::detail::gemm_driver<Arch>(
          m, jb, m, -1.0,
          Operand<double>{a21 + static_cast<std::ptrdiff_t>(jb), lda, 1, Tri::lower},
          Operand<double>{t2, ldt, 1, Tri::full}, a21, lda, false, true);
    }
    if (j == 0) break;
  }
}
PARE_DISPATCHED_KERNEL(void, InvertLower::operator(), (double*, std::size_t, std::ptrdiff_t), const)

}  // namespace kernels

}  // namespace pare::linalg
