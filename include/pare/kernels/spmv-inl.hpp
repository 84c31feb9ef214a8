// SPDX-License-Identifier: Apache-2.0
// pare — definitions for kernels/spmv.hpp: compiled once into pare::compiled, or included by the
// header (core/config.hpp explains the two modes).
#pragma once

#include <cstddef>

#include "pare/core/config.hpp"
#include "pare/core/tensor.hpp"
#include "pare/kernels/spmv.hpp"
#include "pare/sparse/bitmap.hpp"

namespace pare::kernels::reference {

PARE_INLINE void spmv(const Bitmap& a, TensorView<const float, 1> x,
                      TensorView<float, 1> y) noexcept {
  for (std::size_t r = 0; r < a.rows(); ++r) {
    double s = 0;
    a.for_each_in_row(r, [&](std::size_t c, float v) { s += static_cast<double>(v) * x[c]; });
    y[r] = static_cast<float>(s);
  }
}

}  // namespace pare::kernels::reference
