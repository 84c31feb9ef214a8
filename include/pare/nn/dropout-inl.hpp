// SPDX-License-Identifier: Apache-2.0
// pare — definitions for nn/dropout.hpp: compiled once into pare::compiled, or included by the
// header (core/config.hpp explains the two modes).
#pragma once

#include <cstddef>
#include <cstdint>

#include "pare/core/error.hpp"
#include "pare/nn/dropout.hpp"

namespace pare {

PARE_INLINE Dropout::Dropout(float p, std::uint64_t seed) : p_(p), rng_(seed) {
  PARE_CHECK(p >= 0.0f && p < 1.0f, ArgumentError, "Dropout: p must be in [0, 1), got ", p);
}

PARE_INLINE Tensor<float, 2> Dropout::forward(TensorView<const float, 2> x) {
  if (!training_ || p_ == 0.0f) {
    mask_ = Tensor<float, 2>();
    return infer(x);
  }
  const float keep_scale = 1.0f / (1.0f - p_);
  mask_ = Tensor<float, 2>(x.extents());
  Tensor<float, 2> y(x.extents());
  for (std::size_t i = 0; i < x.extent(0); ++i)
    for (std::size_t j = 0; j < x.extent(1); ++j) {
      const float m = rng_.uniform() < p_ ? 0.0f : keep_scale;
      mask_(i, j) = m;
      y(i, j) = x(i, j) * m;
    }
  return y;
}

PARE_INLINE Tensor<float, 2> Dropout::backward(TensorView<const float, 2> grad_out) {
  Tensor<float, 2> dx(grad_out);
  if (mask_.size() == 0) return dx;
  check_same_shape(grad_out.extents(), mask_.extents(), "Dropout::backward (gradient vs mask)");
  for (std::size_t k = 0; k < dx.size(); ++k) dx.data()[k] *= mask_.data()[k];
  return dx;
}

PARE_INLINE void Dropout::infer(TensorView<const float, 1> x, TensorView<float, 1> y) const {
  check_same_shape(x.extents(), y.extents(), "Dropout");
  for (std::size_t j = 0; j < x.extent(0); ++j) y[j] = x[j];
}

}  // namespace pare
