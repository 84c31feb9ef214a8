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

#include <cstddef>
#include <vector>

#include "pare/core/config.hpp"
#include "pare/core/tensor.hpp"

namespace pare {

class PackedGemmB {
 public:
  PackedGemmB() = default;
  /// Packs `b` [K, N] (any strides: a transposed [N, K] view packs a torch Linear weight).
  explicit PackedGemmB(TensorView<const float, 2> b);

  [[nodiscard]] std::size_t rows() const noexcept { return k_; }  ///< K
  [[nodiscard]] std::size_t cols() const noexcept { return n_; }  ///< N

  /// c = a·B (+ bias broadcast over rows) for a [M, K] and c [M, N], both with unit column
  /// stride (rows may be strided). ShapeError when the extents disagree.
  /// @pre c overlaps neither a nor the bias.
  void multiply(TensorView<const float, 2> a, TensorView<float, 2> c,
                const float* bias = nullptr) const;

 private:
  std::size_t k_ = 0, n_ = 0;
  std::vector<float> panels_;  ///< per NC block of columns, per KC slice: the NR-wide panels
};

}  // namespace pare

#ifndef PARE_COMPILED_LIB
#include "pare/kernels/gemm_packed-inl.hpp"
#endif
