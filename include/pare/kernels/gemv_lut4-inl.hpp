// SPDX-License-Identifier: Apache-2.0
// pare — definitions for kernels/gemv_lut4.hpp: compiled once into pare::compiled, or included by
// the header (core/config.hpp explains the two modes).
#pragma once

#include <cstddef>

#include "pare/core/config.hpp"
#include "pare/core/error.hpp"
#include "pare/core/tensor.hpp"
#include "pare/kernels/gemv_lut4.hpp"
#include "pare/quant/lut4.hpp"
#include "pare/simd/arch.hpp"

// The GemvLut4 kernel inlined into the wrapper: the same GCC 12 false positive as in the header.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace pare {

namespace kernels {

PARE_INLINE void gemv_lut4_reference(const Lut4Matrix& w, const float* x, float* y) noexcept {
  for (std::size_t r = 0; r < w.rows(); ++r) {
    double s = 0;
    for (std::size_t c = 0; c < w.cols(); ++c) s += static_cast<double>(w.value(r, c)) * x[c];
    y[r] = static_cast<float>(s);
  }
}

}  // namespace kernels

PARE_INLINE void gemv(const Lut4Matrix& w, TensorView<const float, 1> x, TensorView<float, 1> y) {
  PARE_CHECK(w.cols() == x.extent(0) && w.rows() == y.extent(0), ShapeError, "gemv: W [", w.rows(),
             ", ", w.cols(), "] (lut4) x ", to_string(x.extents()), " -> y ",
             to_string(y.extents()));
  const Tensor<float, 1> xc = x.is_contiguous() ? Tensor<float, 1>() : Tensor<float, 1>(x);
  const float* xp = x.is_contiguous() ? x.data() : xc.data();
  if (y.is_contiguous()) {
    kernels::GemvLut4{}(xsimd::default_arch{}, w, xp, y.data());
    return;
  }
  Tensor<float, 1> yc({y.extent(0)});
  kernels::GemvLut4{}(xsimd::default_arch{}, w, xp, yc.data());
  for (std::size_t r = 0; r < y.extent(0); ++r) y[r] = yc(r);
}

}  // namespace pare

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
