// SPDX-License-Identifier: Apache-2.0
// pare — definitions for kernels/gemv.hpp: compiled once into pare::compiled, or included by the
// header (core/config.hpp explains the two modes).
#pragma once

#include <algorithm>
#include <cstddef>

#include "pare/core/config.hpp"
#include "pare/core/error.hpp"
#include "pare/core/parallel.hpp"
#include "pare/core/tensor.hpp"
#include "pare/kernels/gemv.hpp"
#include "pare/kernels/reference.hpp"
#include "pare/simd/arch.hpp"

namespace pare {

namespace detail {

/// The elements of W below which a GEMV task is not worth a thread (4 MiB of W): GEMV is bound
/// by memory bandwidth, which a second core adds little to on small machines, so a 1024² product
/// ran slower split in two (cold 160 vs 129 µs on the 2-core Zen 5 of docs/performance.md).
inline constexpr std::size_t gemv_task_floats = std::size_t{1} << 20;

}  // namespace detail

PARE_INLINE void gemv(TensorView<const float, 2> w, TensorView<const float, 1> x,
                      TensorView<float, 1> y) {
  PARE_CHECK(w.extent(1) == x.extent(0) && w.extent(0) == y.extent(0), ShapeError, "gemv: W ",
             to_string(w.extents()), " x ", to_string(x.extents()), " -> y ",
             to_string(y.extents()));
  if constexpr (simd::has_simd) {
    const bool rows_contiguous = w.stride(1) == 1 || w.extent(1) <= 1;
    if (rows_contiguous && w.stride(0) >= 0 && x.is_contiguous() && y.is_contiguous()) {
      // Threads take blocks of whole rows: a row's sum does not depend on who computes it. A
      // memory-bound product gains from a second core only when it streams enough of W to
      // outweigh waking it.
      const std::size_t rows = w.extent(0), cols = w.extent(1),
                        ld = static_cast<std::size_t>(w.stride(0));
      constexpr std::size_t unit = 4;  // the kernel's row block for long rows
      const std::size_t units = (rows + unit - 1) / unit;
      simd::dispatch([&](auto arch) {
        parallel_for(0, units, detail::gemv_task_floats / (unit * (cols > 0 ? cols : 1)) + 1,
                     [&](std::size_t lo, std::size_t hi) {
                       const std::size_t r0 = lo * unit, r1 = std::min(rows, hi * unit);
                       kernels::Gemv{}(arch, w.data() + r0 * ld, r1 - r0, cols, ld, x.data(),
                                       y.data() + r0);
                     });
      });
      return;
    }
  }
  kernels::reference::gemv(w, x, y);
}

}  // namespace pare
