// SPDX-License-Identifier: Apache-2.0
// pare — ReLU activation: y = max(x, 0), elementwise.
#pragma once

#include <cstddef>

#include "pare/core/config.hpp"
#include "pare/core/tensor.hpp"
#include "pare/nn/concepts.hpp"

namespace pare {

/// Rectified linear unit. Its gradient at exactly 0 is taken as 0, as in PyTorch.
class ReLU {
 public:
  [[nodiscard]] std::size_t output_size(std::size_t in) const noexcept { return in; }

  /// max(x, 0); keeps the output (its sign pattern is the mask `backward` needs).
  [[nodiscard]] Tensor<float, 2> forward(TensorView<const float, 2> x);

  /// dL/dx = dL/dy where the last forward's output was positive, 0 elsewhere.
  [[nodiscard]] Tensor<float, 2> backward(TensorView<const float, 2> grad_out);

  [[nodiscard]] Tensor<float, 2> infer(TensorView<const float, 2> x) const;

  void infer(TensorView<const float, 1> x, TensorView<float, 1> y) const;

  template <class F>
  void for_each_parameter(F&& /*f*/) noexcept {}

 private:
  Tensor<float, 2> output_;
};

static_assert(Layer<ReLU>);

}  // namespace pare

#ifndef PARE_COMPILED_LIB
#include "pare/nn/relu-inl.hpp"
#endif
