// SPDX-License-Identifier: Apache-2.0
// pare — definitions for nn/loss.hpp: compiled once into pare::compiled, or included by the
// header (core/config.hpp explains the two modes).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "pare/core/error.hpp"
#include "pare/kernels/softmax.hpp"
#include "pare/nn/loss.hpp"

namespace pare {

PARE_INLINE LossAndGrad softmax_cross_entropy(TensorView<const float, 2> logits,
                                              TensorView<const std::int32_t, 1> labels) {
  const std::size_t n = logits.extent(0), c = logits.extent(1);
  PARE_CHECK(labels.extent(0) == n, ShapeError, "softmax_cross_entropy: logits ",
             to_string(logits.extents()), " but labels ", to_string(labels.extents()));
  PARE_CHECK(n > 0 && c > 0, ShapeError, "softmax_cross_entropy: empty logits ",
             to_string(logits.extents()));
  for (std::size_t i = 0; i < n; ++i)
    PARE_CHECK(labels[i] >= 0 && static_cast<std::size_t>(labels[i]) < c, ArgumentError,
               "softmax_cross_entropy: label ", labels[i], " of sample ", i, " is outside [0, ", c,
               ")");
  LossAndGrad out{0.0f, Tensor<float, 2>({n, c})};
  log_softmax(logits, out.grad.view());
  double total = 0;  // double: the mean of many small terms
  const float inv_n = 1.0f / static_cast<float>(n);
  for (std::size_t i = 0; i < n; ++i) {
    const auto y = static_cast<std::size_t>(labels[i]);
    total -= out.grad(i, y);
    for (std::size_t j = 0; j < c; ++j) out.grad(i, j) = std::exp(out.grad(i, j)) * inv_n;
    out.grad(i, y) -= inv_n;
  }
  out.loss = static_cast<float>(total / static_cast<double>(n));
  return out;
}

}  // namespace pare
