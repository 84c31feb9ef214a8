// SPDX-License-Identifier: Apache-2.0
// pare — definitions for kernels/softmax.hpp: compiled once into pare::compiled, or included by
// the header (core/config.hpp explains the two modes).
#pragma once

#include <cstddef>

#include "pare/core/config.hpp"
#include "pare/core/parallel.hpp"
#include "pare/core/tensor.hpp"
#include "pare/kernels/reference.hpp"
#include "pare/kernels/softmax.hpp"
#include "pare/simd/arch.hpp"
#include "pare/simd/dispatch.hpp"

namespace pare {

namespace detail {

// Floats of input one task of the row-wise softmax takes at least: ~3 passes over them at a few
// ns per 16 floats is tens of µs, well above the cost of waking a thread.
inline constexpr std::size_t softmax_task_floats = std::size_t{1} << 16;

template <class Ref>
inline void rowwise(TensorView<const float, 2> x, TensorView<float, 2> y, bool log, Ref ref) {
  const std::size_t rows = x.extent(0), n = x.extent(1);
  const bool fast = simd::has_simd && (x.stride(1) == 1 || n <= 1) && (y.stride(1) == 1 || n <= 1);
  // Rows are independent and each is computed whole by one task: the cut does not change a bit.
  parallel_for(0, rows, softmax_task_floats / (n > 0 ? n : 1) + 1,
               [&](std::size_t lo, std::size_t hi) {
                 if constexpr (simd::has_simd) {
                   if (fast) {
                     simd::dispatch([&](auto arch) {
                       kernels::SoftmaxRows{}(arch, x[lo].data(), x.stride(0), y[lo].data(),
                                              y.stride(0), hi - lo, n, log);
                     });
                     return;
                   }
                 }
                 for (std::size_t r = lo; r < hi; ++r) ref(x[r], y[r]);
               });
}
}  // namespace detail

PARE_INLINE void softmax(TensorView<const float, 1> x, TensorView<float, 1> y) {
  check_same_shape(x.extents(), y.extents(), "softmax");
  if constexpr (simd::has_simd) {
    if (x.is_contiguous() && y.is_contiguous()) {
      simd::dispatch([&](auto arch) { kernels::Softmax{}(arch, x.data(), y.data(), x.extent(0)); });
      return;
    }
  }
  kernels::reference::softmax(x, y);
}

PARE_INLINE void log_softmax(TensorView<const float, 1> x, TensorView<float, 1> y) {
  check_same_shape(x.extents(), y.extents(), "log_softmax");
  if constexpr (simd::has_simd) {
    if (x.is_contiguous() && y.is_contiguous()) {
      simd::dispatch(
          [&](auto arch) { kernels::LogSoftmax{}(arch, x.data(), y.data(), x.extent(0)); });
      return;
    }
  }
  kernels::reference::log_softmax(x, y);
}

PARE_INLINE void softmax(TensorView<const float, 2> x, TensorView<float, 2> y) {
  check_same_shape(x.extents(), y.extents(), "softmax");
  detail::rowwise(x, y, false, [](auto xr, auto yr) { kernels::reference::softmax(xr, yr); });
}

PARE_INLINE void log_softmax(TensorView<const float, 2> x, TensorView<float, 2> y) {
  check_same_shape(x.extents(), y.extents(), "log_softmax");
  detail::rowwise(x, y, true, [](auto xr, auto yr) { kernels::reference::log_softmax(xr, yr); });
}

}  // namespace pare
