// SPDX-License-Identifier: Apache-2.0
// pare — softmax and log-softmax (placeholder scalar versions; SIMD versions to follow).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>

#include "pare/core/tensor.hpp"

namespace pare {

/// y = softmax(x), stable for large |x| (subtracts the max).
inline void softmax(TensorView<const float, 1> x, TensorView<float, 1> y) {
  check_same_shape(x.extents(), y.extents(), "softmax");
  const std::size_t n = x.extent(0);
  if (n == 0) return;
  float m = x[0];
  for (std::size_t i = 1; i < n; ++i) m = std::max(m, x[i]);
  float s = 0;
  for (std::size_t i = 0; i < n; ++i) s += (y[i] = std::exp(x[i] - m));
  for (std::size_t i = 0; i < n; ++i) y[i] /= s;
}

/// y = log(softmax(x)) = x - max - log(sum(exp(x - max))).
inline void log_softmax(TensorView<const float, 1> x, TensorView<float, 1> y) {
  check_same_shape(x.extents(), y.extents(), "log_softmax");
  const std::size_t n = x.extent(0);
  if (n == 0) return;
  float m = x[0];
  for (std::size_t i = 1; i < n; ++i) m = std::max(m, x[i]);
  float s = 0;
  for (std::size_t i = 0; i < n; ++i) s += std::exp(x[i] - m);
  const float lse = m + std::log(s);
  for (std::size_t i = 0; i < n; ++i) y[i] = x[i] - lse;
}

/// Row-wise softmax of a matrix.
inline void softmax(TensorView<const float, 2> x, TensorView<float, 2> y) {
  check_same_shape(x.extents(), y.extents(), "softmax");
  for (std::size_t r = 0; r < x.extent(0); ++r) softmax(x[r], y[r]);
}

/// Row-wise log-softmax of a matrix.
inline void log_softmax(TensorView<const float, 2> x, TensorView<float, 2> y) {
  check_same_shape(x.extents(), y.extents(), "log_softmax");
  for (std::size_t r = 0; r < x.extent(0); ++r) log_softmax(x[r], y[r]);
}

}  // namespace pare
