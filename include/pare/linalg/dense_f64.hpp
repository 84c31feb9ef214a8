// SPDX-License-Identifier: Apache-2.0
// pare — small dense double-precision linear algebra for the Hessian-based algorithms (GPTQ,
// SparseGPT, LayerHessian): Cholesky, inverses from the factor, symmetric rank-k update, GEMM.
//
//   pare::Tensor<double, 2> h = ...;                        // symmetric positive definite
//   if (pare::linalg::inverse_upper_cholesky(h.view()) != pare::linalg::CholeskyStatus::ok) ...
//   // h now holds U (upper) with H⁻¹ = Uᵀ·U: what GPTQ and SparseGPT sweep with
//
// Why a folder of its own, and here: GPTQ (quant/) and SparseGPT (prune/) both need these, so
// they must sit at or below those layers, and the blocked kernels are written with xsimd, so at
// or above simd/. linalg/ is that level: core ← simd ← linalg ← {quant, prune, ...}.
// LayerHessian lives here too (linalg/layer_hessian.hpp) since its rank-k update is one of these
// routines. This replaces Eigen (LLT, MatrixXd products) in the library: Eigen cost ~2 s of
// parsing and instantiation in every translation unit that included quant/ or prune/; these
// headers are xsimd (already needed by pare) plus a few hundred lines.
//
// Layout: row-major pare views (Tensor<double, 2>); the blocked SIMD paths need a unit column
// stride and fall back to linalg/reference.hpp otherwise. The kernels (linalg/kernels.hpp) are
// function objects templated on the xsimd arch; the functions below check shapes and call them
// with the arch simd::dispatch chooses. Numerical failures come back as CholeskyStatus, never as
// exceptions. This header declares; the definitions (dense_f64-inl.hpp) and xsimd come in only in
// header-only mode (core/config.hpp).
#pragma once

#include "pare/core/config.hpp"
#include "pare/core/tensor.hpp"
#include "pare/linalg/reference.hpp"

namespace pare::linalg {

/// A = L·Lᵀ in place: L in the lower triangle, zeros above. Reads only the lower triangle.
/// Returns not_positive_definite (the contents are then unspecified) when a pivot is <= 0 or NaN.
/// ShapeError unless `a` is square.
///
///   pare::Tensor<double, 2> a = spd_matrix();
///   if (pare::linalg::cholesky(a.view()) == pare::linalg::CholeskyStatus::ok) use(a);
[[nodiscard]] CholeskyStatus cholesky(TensorView<double, 2> a);

/// L⁻¹ in place, for a lower-triangular L with a nonzero diagonal; the strict upper triangle is
/// not read and not written. ShapeError unless `l` is square.
void invert_lower(TensorView<double, 2> l);

/// A⁻¹ = L⁻ᵀ·L⁻¹ into `out` (both triangles) from A's Cholesky factor L (lower triangle read).
/// ShapeError unless both are square of one size. @pre `out` does not overlap `l`
void cholesky_inverse(TensorView<const double, 2> l, TensorView<double, 2> out);

/// U (upper triangular, positive diagonal) with A⁻¹ = Uᵀ·U, in place, zeros below the diagonal:
/// the matrix GPTQ and SparseGPT sweep with, the same as the reference code's
/// `cholesky(cholesky_inverse(cholesky(A)), upper=True)` but at half the cost: with J the
/// exchange matrix, J·A·J = L̃·L̃ᵀ gives A = Ũ·Ũᵀ for Ũ = J·L̃·J (upper), so A⁻¹ = Ũ⁻ᵀ·Ũ⁻¹ and
/// U = Ũ⁻¹ = J·L̃⁻¹·J: one Cholesky and one triangular inverse (⅔n³ flops instead of 4⁄3n³).
/// Reads the lower triangle. Status as for cholesky. ShapeError unless `a` is square.
[[nodiscard]] CholeskyStatus inverse_upper_cholesky(TensorView<double, 2> a);

/// Lower triangle of C = beta·C + alpha·Xᵀ·X for X [k, n] (f32 inputs are widened to double),
/// C [n, n]; the strict upper triangle is not written. ShapeError for mismatched shapes.
void syrk_lower(double alpha, TensorView<const float, 2> x, double beta, TensorView<double, 2> c);
void syrk_lower(double alpha, TensorView<const double, 2> x, double beta, TensorView<double, 2> c);

/// C = beta·C + alpha·A·B (A [m, k], B [k, n], any strides). beta = 0 ignores C's old values.
/// ShapeError for mismatched shapes. @pre C overlaps neither A nor B
void gemm(double alpha, TensorView<const double, 2> a, TensorView<const double, 2> b, double beta,
          TensorView<double, 2> c);

/// Copies the lower triangle of the square `a` onto its upper triangle.
void symmetrize_from_lower(TensorView<double, 2> a) noexcept;

}  // namespace pare::linalg

#ifndef PARE_COMPILED_LIB
#include "pare/linalg/dense_f64-inl.hpp"
#endif
