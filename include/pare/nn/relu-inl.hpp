// SPDX-License-Identifier: Apache-2.0
// pare — definitions for nn/relu.hpp: compiled once into pare::compiled, or included by the
// header (core/config.hpp explains the two modes).
#pragma once

#include <algorithm>
#include <cstddef>

#include "pare/core/error.hpp"
#include "pare/nn/relu.hpp"

namespace pare {

PARE_INLINE Tensor<float, 2> ReLU::forward(TensorView<const float, 2> x) {
  Tensor<float, 2> y = infer(x);
  output_ = y;
  return y;
}

PARE_INLINE Tensor<float, 2> ReLU::backward(TensorView<const float, 2> grad_out) {
  check_same_shape(grad_out.extents(), output_.extents(), "ReLU::backward (gradient vs output)");
  Tensor<float, 2> grad_in(grad_out.extents());
  for (std::size_t n = 0; n < grad_out.extent(0); ++n)
    for (std::size_t j = 0; j < grad_out.extent(1); ++j)
      grad_in(n, j) = output_(n, j) > 0.0f ? grad_out(n, j) : 0.0f;
  return grad_in;
}

PARE_INLINE Tensor<float, 2> ReLU::infer(TensorView<const float, 2> x) const {
  Tensor<float, 2> y(x.extents());
  for (std::size_t n = 0; n < x.extent(0); ++n)
    for (std::size_t j = 0; j < x.extent(1); ++j) y(n, j) = std::max(x(n, j), 0.0f);
  return y;
}

PARE_INLINE void ReLU::infer(TensorView<const float, 1> x, TensorView<float, 1> y) const {
  check_same_shape(x.extents(), y.extents(), "ReLU");
  for (std::size_t j = 0; j < x.extent(0); ++j) y[j] = std::max(x[j], 0.0f);
}

}  // namespace pare
