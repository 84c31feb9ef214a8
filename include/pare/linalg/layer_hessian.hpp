// SPDX-License-Identifier: Apache-2.0
// pare — LayerHessian: H = 2/N Σ xxᵀ of a linear layer's calibration inputs, shared by GPTQ
// (quant/gptq.hpp) and SparseGPT (prune/sparsegpt.hpp).
//
// Both algorithms minimize a layer's output error ‖WX − ŴX‖², whose Hessian with respect to
// each row of W is this matrix (the same for every row), so one accumulator serves quantization
// and pruning alike. It sits in linalg/ (below quant/ and prune/) because its update is
// linalg::syrk_lower.
//
//   pare::LayerHessian h(fc.in_features());
//   for (const auto& batch : calibration_inputs) h.add(batch);   // [N, in] each
//   auto q = pare::Int4Linear<pare::Q4G32>::from_gptq(fc, h);
//   auto r = pare::sparsegpt(fc.weight(), h.matrix(), 0.5);
#pragma once

#include <cstddef>

#include "pare/core/config.hpp"
#include "pare/core/tensor.hpp"
#include "pare/linalg/dense_f64.hpp"

namespace pare {

/// Accumulates H = (2/N)·Σₙ xₙxₙᵀ in double precision, batch by batch, as the GPTQ/SparseGPT
/// reference code's `add_batch` does (a running mean, so batches may differ in size).
class LayerHessian {
 public:
  /// ArgumentError for in_features = 0.
  explicit LayerHessian(std::size_t in_features);

  /// Adds a batch of layer inputs x [N, in_features] (any strides). ShapeError for another
  /// width, ArgumentError for a non-finite input (H is then unchanged).
  void add(TensorView<const float, 2> x);

  [[nodiscard]] std::size_t in_features() const noexcept { return h_.extent(0); }
  [[nodiscard]] std::size_t samples() const noexcept { return samples_; }
  /// H [in, in], symmetric (both triangles), row-major. Valid while this LayerHessian lives and
  /// until the next add(); copy it (Tensor<double, 2>(h.matrix())) to keep it.
  [[nodiscard]] TensorView<const double, 2> matrix() const noexcept { return h_.view(); }

 private:
  Tensor<double, 2> h_;
  std::size_t samples_ = 0;
};

}  // namespace pare

#ifndef PARE_COMPILED_LIB
#include "pare/linalg/layer_hessian-inl.hpp"
#endif
