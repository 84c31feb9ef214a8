// SPDX-License-Identifier: Apache-2.0
// pare — ReLU activation: y = max(x, 0), elementwise.
#pragma once

#include <algorithm>
#include <cstddef>

#include "pare/core/error.hpp"
#include "pare/core/tensor.hpp"
#include "pare/nn/concepts.hpp"

namespace pare {

/// Rectified linear unit. Its gradient at exactly 0 is taken as 0, as in PyTorch.
class ReLU {
 public:
  [[nodiscard]] std::size_t output_size(std::size_t in) const noexcept { return in; }

  /// max(x, 0); keeps the output (its sign pattern is the mask `backward` needs).
  [[nodiscard]] Tensor<float, 2> forward(TensorView<const float, 2> x) {
    Tensor<float, 2> y = infer(x);
    output_ = y;
    return y;
  }

  /// dL/dx = dL/dy where the last forward's output was positive, 0 elsewhere.
  [[nodiscard]] Tensor<float, 2> backward(TensorView<const float, 2> grad_out) {
    check_same_shape(grad_out.extents(), output_.extents(), "ReLU::backward (gradient vs output)");
    Tensor<float, 2> grad_in(grad_out.extents());
    for (std::size_t n = 0; n < grad_out.extent(0); ++n)
      for (std::size_t j = 0; j < grad_out.extent(1); ++j)
        grad_in(n, j) = output_(n, j) > 0.0f ? grad_out(n, j) : 0.0f;
    return grad_in;
  }

  [[nodiscard]] Tensor<float, 2> infer(TensorView<const float, 2> x) const {
    Tensor<float, 2> y(x.extents());
    for (std::size_t n = 0; n < x.extent(0); ++n)
      for (std::size_t j = 0; j < x.extent(1); ++j) y(n, j) = std::max(x(n, j), 0.0f);
    return y;
  }

  void infer(TensorView<const float, 1> x, TensorView<float, 1> y) const {
    check_same_shape(x.extents(), y.extents(), "ReLU");
    for (std::size_t j = 0; j < x.extent(0); ++j) y[j] = std::max(x[j], 0.0f);
  }

  template <class F>
  void for_each_parameter(F&& /*f*/) noexcept {}

 private:
  Tensor<float, 2> output_;
};

static_assert(Layer<ReLU>);

}  // namespace pare
