// SPDX-License-Identifier: Apache-2.0
// pare — scalar references of linalg/dense_f64.hpp: the textbook loops, unblocked, any strides.
//
// The tests compare every blocked SIMD routine with these on odd sizes; the public wrappers fall
// back to them for views whose columns are not contiguous, and on targets without SIMD.
// inverse_upper_cholesky here takes the long way the GPTQ reference code takes (Cholesky,
// inverse, Cholesky of the inverse), so it checks the short way dense_f64.hpp takes
// independently.
#pragma once

#include <cmath>
#include <cstddef>

#include "pare/core/tensor.hpp"

namespace pare::linalg {

/// How a Cholesky factorization ended (Eigen's ComputationInfo, in pare's words).
enum class CholeskyStatus {
  ok,
  not_positive_definite  ///< a pivot was <= 0 or NaN: the matrix is not (numerically) SPD
};

namespace reference {

/// A = L·Lᵀ in place (Cholesky–Banachiewicz, row by row): L in the lower triangle, zeros above.
/// Reads only the lower triangle of `a`. @pre `a` is square
template <class T>
[[nodiscard]] CholeskyStatus cholesky(TensorView<T, 2> a) noexcept {
  const std::size_t n = a.extent(0);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j <= i; ++j) {
      T s = a(i, j);
      for (std::size_t p = 0; p < j; ++p) s -= a(i, p) * a(j, p);
      if (j < i) {
        a(i, j) = s / a(j, j);
      } else {
        if (!(s > T(0))) return CholeskyStatus::not_positive_definite;
        a(i, i) = std::sqrt(s);
      }
    }
    for (std::size_t j = i + 1; j < n; ++j) a(i, j) = T(0);
  }
  return CholeskyStatus::ok;
}

/// L⁻¹ in place for a lower-triangular L with a nonzero diagonal (the upper triangle is ignored
/// and left as is). @pre `l` is square
template <class T>
void invert_lower(TensorView<T, 2> l) noexcept {
  const std::size_t n = l.extent(0);
  for (std::size_t i = 0; i < n; ++i) {
    const T inv_d = T(1) / l(i, i);
    // Ascending j reads l(i, p) for p >= j only, which row i has not overwritten yet.
    for (std::size_t j = 0; j < i; ++j) {
      T s = 0;
      for (std::size_t p = j; p < i; ++p) s += l(i, p) * l(p, j);
      l(i, j) = -s * inv_d;
    }
    l(i, i) = inv_d;
  }
}

/// A⁻¹ = L⁻ᵀ·L⁻¹ (symmetric, both triangles) from the Cholesky factor L of A.
/// @pre `l` and `out` are square of the same size and do not overlap
template <class T>
void cholesky_inverse(TensorView<const T, 2> l, TensorView<T, 2> out) {
  const std::size_t n = l.extent(0);
  Tensor<T, 2> x({n, n});
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j <= i; ++j) x(i, j) = l(i, j);
  invert_lower(x.view());
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j <= i; ++j) {
      T s = 0;
      for (std::size_t p = i; p < n; ++p) s += x(p, i) * x(p, j);
      out(i, j) = s;
      out(j, i) = s;
    }
}

/// U (upper, positive diagonal) with A⁻¹ = Uᵀ·U, in place, the way the GPTQ reference computes
/// it: L = chol(A), A⁻¹ from L, U = chol(A⁻¹)ᵀ. @pre `a` is square and symmetric
template <class T>
[[nodiscard]] CholeskyStatus inverse_upper_cholesky(TensorView<T, 2> a) {
  const std::size_t n = a.extent(0);
  if (cholesky(a) != CholeskyStatus::ok) return CholeskyStatus::not_positive_definite;
  Tensor<T, 2> inv({n, n});
  cholesky_inverse(TensorView<const T, 2>(a), inv.view());
  if (cholesky(inv.view()) != CholeskyStatus::ok) return CholeskyStatus::not_positive_definite;
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j) a(i, j) = j >= i ? inv(j, i) : T(0);
  return CholeskyStatus::ok;
}

/// Lower triangle of C = beta·C + alpha·Xᵀ·X (X [k, n], C [n, n]); the strict upper triangle of
/// C is left as is. beta = 0 ignores C's old values.
template <class TX, class T>
void syrk_lower(double alpha, TensorView<const TX, 2> x, double beta, TensorView<T, 2> c) noexcept {
  const std::size_t n = c.extent(0);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j <= i; ++j) {
      double s = 0;
      for (std::size_t p = 0; p < x.extent(0); ++p)
        s += static_cast<double>(x(p, i)) * static_cast<double>(x(p, j));
      c(i, j) = static_cast<T>(alpha * s + (beta == 0 ? 0.0 : beta * static_cast<double>(c(i, j))));
    }
}

/// C = beta·C + alpha·A·B (A [m, k], B [k, n], C [m, n]); beta = 0 ignores C's old values.
template <class T>
void gemm(double alpha, TensorView<const T, 2> a, TensorView<const T, 2> b, double beta,
          TensorView<T, 2> c) noexcept {
  for (std::size_t i = 0; i < c.extent(0); ++i)
    for (std::size_t j = 0; j < c.extent(1); ++j) {
      double s = 0;
      for (std::size_t p = 0; p < a.extent(1); ++p)
        s += static_cast<double>(a(i, p)) * static_cast<double>(b(p, j));
      c(i, j) = static_cast<T>(alpha * s + (beta == 0 ? 0.0 : beta * static_cast<double>(c(i, j))));
    }
}

}  // namespace reference
}  // namespace pare::linalg
