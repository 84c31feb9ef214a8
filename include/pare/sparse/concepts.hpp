// SPDX-License-Identifier: Apache-2.0
// pare — what a sparse weight format promises, and which weights a conversion keeps.
//
// When to use which format (measured numbers in docs/sparse.md):
// - Csr<std::uint16_t>: unstructured sparsity >= ~70 % (6 bytes per kept weight; 16-bit column
//   indices, so up to 65536 columns); Csr<std::uint32_t> for wider matrices.
// - CsrInt8: the same pattern with int8 values and one scale per row (3 bytes per kept weight).
// - Bitmap: unstructured sparsity around 50 % (1 bit per weight + the kept values).
// - Bsr<R, C>: block-structured masks (prune/ block patterns); no index per weight at all.
// - PackedNM<N, M[, std::int8_t]>: N:M masks (2:4, 4:8, 1:4, 2:8, ...); values + 2- or 4-bit
//   indices, no gathers for M <= 4N on AVX-512: the fastest way to beat a dense GEMV.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "pare/core/error.hpp"
#include "pare/core/tensor.hpp"

namespace pare {

namespace detail {
template <class P>
inline constexpr bool is_tensor_or_view = false;
template <class T, std::size_t R>
inline constexpr bool is_tensor_or_view<Tensor<T, R>> = true;
template <class T, std::size_t R>
inline constexpr bool is_tensor_or_view<TensorView<T, R>> = true;
}  // namespace detail

/// Decides which weights of a [rows, cols] matrix a conversion keeps: `keep(r, c)` is true for
/// the weights to store. Any callable works; masks (Tensor<std::uint8_t, 2>, 1 = keep) go through
/// the overloads taking a TensorView<const std::uint8_t, 2>, which check the shape, so tensors
/// and views are excluded here although they are callable with (r, c).
template <class P>
concept KeepPredicate = !detail::is_tensor_or_view<std::remove_cvref_t<P>> &&
                        requires(const P& keep, std::size_t r, std::size_t c) {
                          { keep(r, c) } -> std::convertible_to<bool>;
                        };

/// Keeps the weights whose mask byte is non-zero (the convention of pare/prune/mask.hpp).
struct KeepMask {
  TensorView<const std::uint8_t, 2> mask;
  [[nodiscard]] bool operator()(std::size_t r, std::size_t c) const noexcept {
    return mask(r, c) != 0;
  }
};

/// Keeps the non-zero weights (a matrix whose pruned weights are already zero).
struct KeepNonzero {
  TensorView<const float, 2> weights;
  [[nodiscard]] bool operator()(std::size_t r, std::size_t c) const noexcept {
    return weights(r, c) != 0.0f;
  }
};

static_assert(KeepPredicate<KeepMask>);
static_assert(KeepPredicate<KeepNonzero>);

/// A sparse [rows, cols] f32-valued matrix format:
/// - `rows()`, `cols()`: the dense shape;
/// - `stored()`: how many values the format stores (kept weights plus any padding it needs);
/// - `size_bytes()`: bytes of every array (values, indices, scales, row pointers);
/// - `density()`: kept weights / (rows * cols), 0 for an empty matrix;
/// - `to_dense()`: the matrix with every weight not kept set to zero.
template <class S>
concept SparseMatrix = requires(const S& s) {
  { s.rows() } -> std::convertible_to<std::size_t>;
  { s.cols() } -> std::convertible_to<std::size_t>;
  { s.stored() } -> std::convertible_to<std::size_t>;
  { s.size_bytes() } -> std::convertible_to<std::size_t>;
  { s.density() } -> std::convertible_to<double>;
  { s.to_dense() } -> std::same_as<Tensor<float, 2>>;
};

namespace detail {

/// Throws ShapeError unless the weights and the mask have the same shape.
void check_mask_shape(TensorView<const float, 2> w, TensorView<const std::uint8_t, 2> m);

[[nodiscard]] inline double density_of(std::size_t kept, std::size_t rows, std::size_t cols) {
  const double total = static_cast<double>(rows) * static_cast<double>(cols);
  return total == 0 ? 0.0 : static_cast<double>(kept) / total;
}

}  // namespace detail
}  // namespace pare

#ifndef PARE_COMPILED_LIB
#include "pare/sparse/concepts-inl.hpp"
#endif
