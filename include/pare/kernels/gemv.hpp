// SPDX-License-Identifier: Apache-2.0
// pare — f32 matrix-vector product (placeholder scalar version; SIMD version to follow).
#pragma once

#include <cstddef>

#include "pare/core/tensor.hpp"

namespace pare {

/// y = W x for W of shape [rows, cols], x of [cols], y of [rows].
inline void gemv(TensorView<const float, 2> w, TensorView<const float, 1> x, TensorView<float, 1> y) {
  PARE_CHECK(w.extent(1) == x.extent(0) && w.extent(0) == y.extent(0), ShapeError,
             "gemv: W ", to_string(w.extents()), " x ", to_string(x.extents()), " -> y ",
             to_string(y.extents()));
  for (std::size_t r = 0; r < w.extent(0); ++r) {
    float s = 0;
    for (std::size_t c = 0; c < w.extent(1); ++c) s += w(r, c) * x[c];
    y[r] = s;
  }
}

}  // namespace pare
