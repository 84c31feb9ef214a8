// SPDX-License-Identifier: Apache-2.0
// pare — definitions for sparse/bitmap.hpp: compiled once into pare::compiled, or included by the
// header (core/config.hpp explains the two modes).
#pragma once

#include <cstddef>
#include <cstdint>

#include "pare/core/config.hpp"
#include "pare/core/tensor.hpp"
#include "pare/sparse/bitmap.hpp"
#include "pare/sparse/concepts.hpp"

namespace pare {

PARE_INLINE Bitmap Bitmap::from_dense(TensorView<const float, 2> w,
                                      TensorView<const std::uint8_t, 2> mask) {
  detail::check_mask_shape(w, mask);
  return from_dense(w, KeepMask{mask});
}

PARE_INLINE Bitmap Bitmap::from_dense(TensorView<const float, 2> w) {
  return from_dense(w, KeepNonzero{w});
}

PARE_INLINE Tensor<float, 2> Bitmap::to_dense() const {
  Tensor<float, 2> d({rows_, cols_});
  for (std::size_t r = 0; r < rows_; ++r)
    for_each_in_row(r, [&](std::size_t c, float v) { d(r, c) = v; });
  return d;
}

}  // namespace pare
