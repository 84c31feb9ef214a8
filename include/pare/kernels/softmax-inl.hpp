// SPDX-License-Identifier: Apache-2.0
// pare — definitions for kernels/softmax.hpp: compiled once into pare::compiled, or included by
// the header (core/config.hpp explains the two modes).
#pragma once

#include <cstddef>

#include "pare/core/config.hpp"
#include "pare/core/tensor.hpp"
#include "pare/kernels/reference.hpp"
#include "pare/kernels/softmax.hpp"
#include "pare/simd/arch.hpp"

namespace pare {

namespace detail {
template <class Kernel, class Ref>
inline void rowwise(TensorView<const float, 2> x, TensorView<float, 2> y, Ref ref) {
  const bool fast = simd::has_simd && (x.stride(1) == 1 || x.extent(1) <= 1) &&
                    (y.stride(1) == 1 || y.extent(1) <= 1);
  for (std::size_t r = 0; r < x.extent(0); ++r) {
    if constexpr (simd::has_simd) {
      if (fast) {
        Kernel{}(xsimd::default_arch{}, x[r].data(), y[r].data(), x.extent(1));
        continue;
      }
    }
    ref(x[r], y[r]);
  }
}
}  // namespace detail

PARE_INLINE void softmax(TensorView<const float, 1> x, TensorView<float, 1> y) {
  check_same_shape(x.extents(), y.extents(), "softmax");
  if constexpr (simd::has_simd) {
    if (x.is_contiguous() && y.is_contiguous()) {
      kernels::Softmax{}(xsimd::default_arch{}, x.data(), y.data(), x.extent(0));
      return;
    }
  }
  kernels::reference::softmax(x, y);
}

PARE_INLINE void log_softmax(TensorView<const float, 1> x, TensorView<float, 1> y) {
  check_same_shape(x.extents(), y.extents(), "log_softmax");
  if constexpr (simd::has_simd) {
    if (x.is_contiguous() && y.is_contiguous()) {
      kernels::LogSoftmax{}(xsimd::default_arch{}, x.data(), y.data(), x.extent(0));
      return;
    }
  }
  kernels::reference::log_softmax(x, y);
}

PARE_INLINE void softmax(TensorView<const float, 2> x, TensorView<float, 2> y) {
  check_same_shape(x.extents(), y.extents(), "softmax");
  detail::rowwise<kernels::Softmax>(x, y,
                                    [](auto xr, auto yr) { kernels::reference::softmax(xr, yr); });
}

PARE_INLINE void log_softmax(TensorView<const float, 2> x, TensorView<float, 2> y) {
  check_same_shape(x.extents(), y.extents(), "log_softmax");
  detail::rowwise<kernels::LogSoftmax>(
      x, y, [](auto xr, auto yr) { kernels::reference::log_softmax(xr, yr); });
}

}  // namespace pare
