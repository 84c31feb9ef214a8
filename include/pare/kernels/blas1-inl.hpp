// SPDX-License-Identifier: Apache-2.0
// pare — definitions for kernels/blas1.hpp: compiled once into pare::compiled, or included by the
// header (core/config.hpp explains the two modes).
#pragma once

#include "pare/core/config.hpp"
#include "pare/core/tensor.hpp"
#include "pare/kernels/blas1.hpp"
#include "pare/kernels/reference.hpp"
#include "pare/simd/arch.hpp"

namespace pare {

PARE_INLINE float dot(TensorView<const float, 1> a, TensorView<const float, 1> b) {
  check_same_shape(a.extents(), b.extents(), "dot");
  if constexpr (simd::has_simd) {
    if (a.is_contiguous() && b.is_contiguous())
      return simd::dispatch(
          [&](auto arch) { return kernels::Dot{}(arch, a.data(), b.data(), a.extent(0)); });
  }
  return kernels::reference::dot(a, b);
}

PARE_INLINE void axpy(float alpha, TensorView<const float, 1> x, TensorView<float, 1> y) {
  check_same_shape(x.extents(), y.extents(), "axpy");
  if constexpr (simd::has_simd) {
    if (x.is_contiguous() && y.is_contiguous()) {
      simd::dispatch(
          [&](auto arch) { kernels::Axpy{}(arch, alpha, x.data(), y.data(), x.extent(0)); });
      return;
    }
  }
  kernels::reference::axpy(alpha, x, y);
}

}  // namespace pare
