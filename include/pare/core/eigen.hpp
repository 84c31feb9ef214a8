// SPDX-License-Identifier: Apache-2.0
// pare — zero-copy interop with Eigen, both ways.
//
//   auto m = pare::as_eigen(view);        // Eigen::Map over a TensorView<T, 1 or 2>
//   auto v = pare::view_of(eigen_matrix); // TensorView over an Eigen dense object
//
// Eigen objects opt in through `foreign_view_traits`, the customization point any foreign matrix
// type can specialize (as mp-units does with quantity_like_traits).
//
// The only pare header that includes Eigen, and included by no other: pare itself does not need
// Eigen. Include it yourself and link the CMake target pare::eigen (pare::pare + Eigen3::Eigen,
// present when CMake found Eigen 3.3 or later).
#pragma once

#include <Eigen/Core>
#include <concepts>
#include <cstddef>
#include <type_traits>

#include "pare/core/tensor.hpp"

namespace pare {

/// Strided Eigen map types matching a TensorView's layout.
template <class T>
using EigenMatrixMap = Eigen::Map<
    std::conditional_t<std::is_const_v<T>,
                       const Eigen::Matrix<std::remove_const_t<T>, Eigen::Dynamic, Eigen::Dynamic,
                                           Eigen::RowMajor>,
                       Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>,
    Eigen::Unaligned, Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>>;

template <class T>
using EigenVectorMap =
    Eigen::Map<std::conditional_t<std::is_const_v<T>,
                                  const Eigen::Matrix<std::remove_const_t<T>, Eigen::Dynamic, 1>,
                                  Eigen::Matrix<T, Eigen::Dynamic, 1>>,
               Eigen::Unaligned, Eigen::InnerStride<Eigen::Dynamic>>;

/// An Eigen::Map over a matrix view (row-major map with the view's strides; no copy).
template <class T>
[[nodiscard]] EigenMatrixMap<T> as_eigen(const TensorView<T, 2>& v) noexcept {
  // Eigen's Stride is (outer, inner); for a row-major map, outer = row stride.
  return EigenMatrixMap<T>(v.data(), static_cast<Eigen::Index>(v.extent(0)),
                           static_cast<Eigen::Index>(v.extent(1)),
                           Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>(v.stride(0), v.stride(1)));
}

/// An Eigen::Map over a vector view (column vector with the view's stride; no copy).
template <class T>
[[nodiscard]] EigenVectorMap<T> as_eigen(const TensorView<T, 1>& v) noexcept {
  return EigenVectorMap<T>(v.data(), static_cast<Eigen::Index>(v.extent(0)),
                           Eigen::InnerStride<Eigen::Dynamic>(v.stride(0)));
}

template <class T, std::size_t R>
[[nodiscard]] auto as_eigen(Tensor<T, R>& t) noexcept {
  return as_eigen(t.view());
}
template <class T, std::size_t R>
[[nodiscard]] auto as_eigen(const Tensor<T, R>& t) noexcept {
  return as_eigen(t.view());
}

/// Customization point: how to view a foreign matrix type as a TensorView. Specialize with
/// `static constexpr std::size_t rank`, `using element_type`, and `static TensorView<element_type,
/// rank> view(M&)`.
template <class M>
struct foreign_view_traits;

/// A type `view_of` accepts: one with a foreign_view_traits specialization.
template <class M>
concept ForeignViewable = requires(M& m) {
  { foreign_view_traits<std::remove_cvref_t<M>>::view(m) };
};

namespace detail {
template <class Derived>
concept EigenDense = std::derived_from<Derived, Eigen::DenseBase<Derived>> && requires(Derived& d) {
  { d.data() };
  { d.innerStride() } -> std::convertible_to<Eigen::Index>;
  { d.outerStride() } -> std::convertible_to<Eigen::Index>;
};
}  // namespace detail

/// Eigen dense objects with direct access (Matrix, Array, Map, Ref, Block) view as Rank 2, or as
/// Rank 1 when they are vectors at compile time.
template <detail::EigenDense D>
struct foreign_view_traits<D> {
  using element_type = std::remove_reference_t<decltype(*std::declval<D&>().data())>;
  static constexpr std::size_t rank =
      (D::ColsAtCompileTime == 1 || D::RowsAtCompileTime == 1) ? 1 : 2;

  template <class M>
  static auto view(M& m) noexcept {
    using T = std::remove_reference_t<decltype(*m.data())>;
    if constexpr (rank == 1) {
      return TensorView<T, 1>(m.data(), {static_cast<std::size_t>(m.size())},
                              {static_cast<std::ptrdiff_t>(m.innerStride())});
    } else {
      const auto rows = static_cast<std::size_t>(m.rows());
      const auto cols = static_cast<std::size_t>(m.cols());
      const auto inner = static_cast<std::ptrdiff_t>(m.innerStride());
      const auto outer = static_cast<std::ptrdiff_t>(m.outerStride());
      if constexpr (D::IsRowMajor) {
        return TensorView<T, 2>(m.data(), {rows, cols}, {outer, inner});
      } else {
        return TensorView<T, 2>(m.data(), {rows, cols}, {inner, outer});
      }
    }
  }
};

/// A TensorView over a foreign matrix (an Eigen object by default), without copying.
template <class M>
  requires ForeignViewable<M>
[[nodiscard]] auto view_of(M& m) noexcept {
  return foreign_view_traits<std::remove_cvref_t<M>>::view(m);
}

}  // namespace pare
