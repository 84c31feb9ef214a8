// SPDX-License-Identifier: Apache-2.0
// pare — definitions for kernels/gemv_lut4.hpp: compiled once into pare::compiled, or included by
// the header (core/config.hpp explains the two modes).
#pragma once

#include <algorithm>
#include <cstddef>

#include "pare/core/config.hpp"
#include "pare/core/error.hpp"
#include "pare/core/parallel.hpp"
#include "pare/core/tensor.hpp"
#include "pare/kernels/gemv_lut4.hpp"
#include "pare/quant/lut4.hpp"
#include "pare/simd/arch.hpp"
#include "pare/simd/dispatch.hpp"

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

PARE_INLINE void gemv_lut4(const Lut4Matrix& w, const float* x, float* y) {
  const std::size_t rows = w.rows();
  if constexpr (simd::has_simd) {
    // Pieces of at least ~64 KiB of codes (~5 us).
    const std::size_t grain = std::max<std::size_t>(1, (std::size_t{1} << 16) / (w.cols() / 2 + 1));
    parallel_for(0, rows, grain, [&](std::size_t lo, std::size_t hi) {
      simd::dispatch([&](auto arch) { GemvLut4Rows{}(arch, w, x, y, lo, hi); });
    });
  } else {
    GemvLut4Rows{}(xsimd::unavailable{}, w, x, y, 0, rows);
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
    kernels::gemv_lut4(w, xp, y.data());
    return;
  }
  Tensor<float, 1> yc({y.extent(0)});
  kernels::gemv_lut4(w, xp, yc.data());
  for (std::size_t r = 0; r < y.extent(0); ++r) y[r] = yc(r);
}

}  // namespace pare

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
