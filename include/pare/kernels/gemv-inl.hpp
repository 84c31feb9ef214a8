// SPDX-License-Identifier: Apache-2.0
// pare — definitions for kernels/gemv.hpp: compiled once into pare::compiled, or included by the
// header (core/config.hpp explains the two modes).
#pragma once

#include <cstddef>

#include "pare/core/config.hpp"
#include "pare/core/error.hpp"
#include "pare/core/tensor.hpp"
#include "pare/kernels/gemv.hpp"
#include "pare/kernels/reference.hpp"
#include "pare/simd/arch.hpp"

namespace pare {

PARE_INLINE void gemv(TensorView<const float, 2> w, TensorView<const float, 1> x,
                      TensorView<float, 1> y) {
  PARE_CHECK(w.extent(1) == x.extent(0) && w.extent(0) == y.extent(0), ShapeError, "gemv: W ",
             to_string(w.extents()), " x ", to_string(x.extents()), " -> y ",
             to_string(y.extents()));
  if constexpr (simd::has_simd) {
    const bool rows_contiguous = w.stride(1) == 1 || w.extent(1) <= 1;
    if (rows_contiguous && w.stride(0) >= 0 && x.is_contiguous() && y.is_contiguous()) {
      kernels::Gemv{}(xsimd::default_arch{}, w.data(), w.extent(0), w.extent(1),
                      static_cast<std::size_t>(w.stride(0)), x.data(), y.data());
      return;
    }
  }
  kernels::reference::gemv(w, x, y);
}

}  // namespace pare
