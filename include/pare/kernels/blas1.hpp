// SPDX-License-Identifier: Apache-2.0
// pare — vector kernels: dot and axpy (placeholder scalar versions; SIMD versions to follow).
#pragma once

#include <cstddef>

#include "pare/core/tensor.hpp"

namespace pare {

/// Sum of a[i] * b[i].
[[nodiscard]] inline float dot(TensorView<const float, 1> a, TensorView<const float, 1> b) {
  check_same_shape(a.extents(), b.extents(), "dot");
  float s = 0;
  for (std::size_t i = 0; i < a.extent(0); ++i) s += a[i] * b[i];
  return s;
}

/// y += alpha * x.
inline void axpy(float alpha, TensorView<const float, 1> x, TensorView<float, 1> y) {
  check_same_shape(x.extents(), y.extents(), "axpy");
  for (std::size_t i = 0; i < x.extent(0); ++i) y[i] += alpha * x[i];
}

}  // namespace pare
