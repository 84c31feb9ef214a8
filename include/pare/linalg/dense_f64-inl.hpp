// SPDX-License-Identifier: Apache-2.0
// pare — definitions for linalg/dense_f64.hpp: compiled once into pare::compiled, or included by
// the header (core/config.hpp explains the two modes).
#pragma once

#include <algorithm>
#include <cstddef>

#include "pare/core/error.hpp"
#include "pare/linalg/dense_f64.hpp"
#include "pare/linalg/kernels.hpp"

namespace pare::linalg {

namespace detail {

inline void check_square(const Shape<2>& s, const char* what) {
  PARE_CHECK(s[0] == s[1], ShapeError, what, ": needs a square matrix, got ", to_string(s));
}

/// True when the blocked SIMD kernels apply: a SIMD arch and contiguous columns.
inline bool simd_path(const TensorView<double, 2>& a) noexcept {
  return simd::has_simd && (a.extent(1) <= 1 || a.stride(1) == 1);
}

template <class T>
Operand<T> operand_of(const TensorView<const T, 2>& v, Tri tri = Tri::full) noexcept {
  return {v.data(), v.stride(0), v.stride(1), tri};
}

inline void scale(TensorView<double, 2> c, double beta, bool lower) noexcept {
  for (std::size_t i = 0; i < c.extent(0); ++i) {
    const std::size_t jn = lower ? std::min(i + 1, c.extent(1)) : c.extent(1);
    for (std::size_t j = 0; j < jn; ++j) c(i, j) = beta == 0.0 ? 0.0 : beta * c(i, j);
  }
}

template <class T>
void syrk_lower_any(double alpha, TensorView<const T, 2> x, double beta, TensorView<double, 2> c) {
  check_square(c.extents(), "syrk_lower");
  PARE_CHECK(x.extent(1) == c.extent(0), ShapeError, "syrk_lower: X ", to_string(x.extents()),
             " for C ", to_string(c.extents()));
  if constexpr (simd::has_simd) {
    if (simd_path(c)) {
      const bool overwrite = beta == 0.0;
      if (!overwrite && beta != 1.0) scale(c, beta, true);
      simd::dispatch([&](auto arch) {
        kernels::GemmF64{}(arch, c.extent(0), c.extent(0), x.extent(0), alpha,
                           operand_of(x.transposed()), operand_of(x), c.data(), c.stride(0), true,
                           overwrite);
      });
      return;
    }
  }
  reference::syrk_lower(alpha, x, beta, c);
}

}  // namespace detail

PARE_INLINE CholeskyStatus cholesky(TensorView<double, 2> a) {
  detail::check_square(a.extents(), "cholesky");
  if constexpr (simd::has_simd) {
    if (detail::simd_path(a))
      return simd::dispatch(
          [&](auto arch) { return kernels::Cholesky{}(arch, a.data(), a.extent(0), a.stride(0)); });
  }
  return reference::cholesky(a);
}

PARE_INLINE void invert_lower(TensorView<double, 2> l) {
  detail::check_square(l.extents(), "invert_lower");
  if constexpr (simd::has_simd) {
    if (detail::simd_path(l)) {
      simd::dispatch(
          [&](auto arch) { kernels::InvertLower{}(arch, l.data(), l.extent(0), l.stride(0)); });
      return;
    }
  }
  reference::invert_lower(l);
}

PARE_INLINE void cholesky_inverse(TensorView<const double, 2> l, TensorView<double, 2> out) {
  detail::check_square(l.extents(), "cholesky_inverse");
  check_same_shape(l.extents(), out.extents(), "cholesky_inverse");
  const std::size_t n = l.extent(0);
  if constexpr (simd::has_simd) {
    if (detail::simd_path(out)) {
      Tensor<double, 2> x({n, n});
      for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j <= i; ++j) x(i, j) = l(i, j);
      const TensorView<const double, 2> xv = x.view();
      simd::dispatch([&](auto arch) {
        kernels::InvertLower{}(arch, x.data(), n, static_cast<std::ptrdiff_t>(n));
        // Lower triangle of Xᵀ·X: Xᵀ is upper triangular, X lower, so each tile's products
        // start at max(row, column).
        kernels::GemmF64{}(
            arch, n, n, n, 1.0, detail::operand_of(xv.transposed(), detail::Tri::upper),
            detail::operand_of(xv, detail::Tri::lower), out.data(), out.stride(0), true, true);
      });
      symmetrize_from_lower(out);
      return;
    }
  }
  reference::cholesky_inverse(l, out);
}

PARE_INLINE CholeskyStatus inverse_upper_cholesky(TensorView<double, 2> a) {
  detail::check_square(a.extents(), "inverse_upper_cholesky");
  const std::size_t n = a.extent(0);
  if constexpr (simd::has_simd) {
    if (detail::simd_path(a)) {
      // Only the lower triangle is input: mirror it first so that the half-turn (which moves
      // the lower triangle onto the upper) keeps the data the Cholesky reads.
      symmetrize_from_lower(a);
      detail::rotate_half_turn(a.data(), n, a.stride(0));
      const bool ok = simd::dispatch([&](auto arch) {
        if (kernels::Cholesky{}(arch, a.data(), n, a.stride(0)) != CholeskyStatus::ok) return false;
        kernels::InvertLower{}(arch, a.data(), n, a.stride(0));
        return true;
      });
      if (!ok) return CholeskyStatus::not_positive_definite;
      detail::rotate_half_turn(a.data(), n, a.stride(0));
      return CholeskyStatus::ok;
    }
  }
  return reference::inverse_upper_cholesky(a);
}

PARE_INLINE void syrk_lower(double alpha, TensorView<const float, 2> x, double beta,
                            TensorView<double, 2> c) {
  detail::syrk_lower_any(alpha, x, beta, c);
}

PARE_INLINE void syrk_lower(double alpha, TensorView<const double, 2> x, double beta,
                            TensorView<double, 2> c) {
  detail::syrk_lower_any(alpha, x, beta, c);
}

PARE_INLINE void gemm(double alpha, TensorView<const double, 2> a, TensorView<const double, 2> b,
                      double beta, TensorView<double, 2> c) {
  PARE_CHECK(a.extent(0) == c.extent(0) && b.extent(1) == c.extent(1) && a.extent(1) == b.extent(0),
             ShapeError, "gemm: A ", to_string(a.extents()), " · B ", to_string(b.extents()),
             " into C ", to_string(c.extents()));
  if constexpr (simd::has_simd) {
    if (detail::simd_path(c)) {
      const bool overwrite = beta == 0.0;
      if (!overwrite && beta != 1.0) detail::scale(c, beta, false);
      simd::dispatch([&](auto arch) {
        kernels::GemmF64{}(arch, c.extent(0), c.extent(1), a.extent(1), alpha,
                           detail::operand_of(a), detail::operand_of(b), c.data(), c.stride(0),
                           false, overwrite);
      });
      return;
    }
  }
  reference::gemm(alpha, a, b, beta, c);
}

PARE_INLINE void symmetrize_from_lower(TensorView<double, 2> a) noexcept {
  // Row-major: reading column j below the diagonal is strided; 16-row strips keep it in cache.
  const std::size_t n = std::min(a.extent(0), a.extent(1));
  constexpr std::size_t strip = 16;
  for (std::size_t i0 = 0; i0 < n; i0 += strip) {
    const std::size_t i1 = std::min(n, i0 + strip);
    for (std::size_t j = i0; j < n; ++j)
      for (std::size_t i = i0; i < std::min(i1, j); ++i) a(i, j) = a(j, i);
  }
}

}  // namespace pare::linalg
