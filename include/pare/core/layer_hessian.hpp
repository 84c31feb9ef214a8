// SPDX-License-Identifier: Apache-2.0
// pare — LayerHessian: H = 2/N Σ xxᵀ of a linear layer's calibration inputs, shared by GPTQ
// (quant/gptq.hpp) and SparseGPT (prune/sparsegpt.hpp).
//
// Both algorithms minimize a layer's output error ‖WX − ŴX‖², whose Hessian with respect to
// each row of W is this matrix (the same for every row), so one accumulator serves quantization
// and pruning alike:
//
//   pare::LayerHessian h(fc.in_features());
//   for (const auto& batch : calibration_inputs) h.add(batch);   // [N, in] each
//   auto q = pare::Int4Linear<pare::Q4G32>::from_gptq(fc, h);
//   auto r = pare::sparsegpt(fc.weight(), h.matrix(), 0.5);
#pragma once

#include <cmath>
#include <cstddef>

#include <Eigen/Core>

#include "pare/core/error.hpp"
#include "pare/core/tensor.hpp"

namespace pare {

/// Accumulates H = (2/N)·Σₙ xₙxₙᵀ in double precision, batch by batch, as the GPTQ/SparseGPT
/// reference code's `add_batch` does (a running mean, so batches may differ in size).
class LayerHessian {
 public:
  explicit LayerHessian(std::size_t in_features)
      : h_(Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(in_features),
                                 static_cast<Eigen::Index>(in_features))) {
    PARE_CHECK(in_features > 0, ArgumentError, "LayerHessian needs in_features > 0");
  }

  /// Adds a batch of layer inputs x [N, in_features]. ArgumentError for a non-finite input.
  void add(TensorView<const float, 2> x) {
    PARE_CHECK(x.extent(1) == in_features(), ShapeError, "LayerHessian::add: input ",
               to_string(x.extents()), " for a layer with ", in_features(), " inputs");
    const std::size_t n = x.extent(0);
    if (n == 0) return;
    Eigen::MatrixXd xd(static_cast<Eigen::Index>(n), h_.cols());
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < in_features(); ++j) {
        const float v = x(i, j);
        PARE_CHECK(std::isfinite(v), ArgumentError, "LayerHessian::add: element (", i, ", ", j,
                   ") is not finite");
        xd(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) = v;
      }
    const double old = static_cast<double>(samples_);
    samples_ += n;
    h_ *= old / static_cast<double>(samples_);
    h_.selfadjointView<Eigen::Lower>().rankUpdate(xd.transpose(),
                                                  2.0 / static_cast<double>(samples_));
    // Mirror the lower triangle element by element: an Eigen expression reading h_ while
    // writing it would trip Eigen's aliasing assertion in debug builds.
    for (Eigen::Index j = 1; j < h_.cols(); ++j)
      for (Eigen::Index i = 0; i < j; ++i) h_(i, j) = h_(j, i);
  }

  [[nodiscard]] std::size_t in_features() const noexcept {
    return static_cast<std::size_t>(h_.cols());
  }
  [[nodiscard]] std::size_t samples() const noexcept { return samples_; }
  /// H [in, in], symmetric.
  [[nodiscard]] const Eigen::MatrixXd& matrix() const noexcept { return h_; }

 private:
  Eigen::MatrixXd h_;
  std::size_t samples_ = 0;
};

}  // namespace pare
