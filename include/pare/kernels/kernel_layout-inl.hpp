// SPDX-License-Identifier: Apache-2.0
// pare — definitions for kernels/kernel_layout.hpp: compiled once into pare::compiled, or included
// by the header (core/config.hpp explains the two modes).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "pare/core/config.hpp"
#include "pare/core/error.hpp"
#include "pare/kernels/gemm_int8.hpp"
#include "pare/kernels/kernel_layout.hpp"
#include "pare/quant/dynamic.hpp"

namespace pare {

PARE_INLINE void gemv(const PackedInt8Weights& w, TensorView<const float, 1> x,
                      TensorView<float, 1> y, Int8Path path) {
  PARE_CHECK(w.k() == x.extent(0) && w.n() == y.extent(0), ShapeError, "gemv: W [", w.n(), ", ",
             w.k(), "] (int8) x ", to_string(x.extents()), " -> y ", to_string(y.extents()));
  PARE_CHECK(w.scales() != nullptr, ArgumentError,
             "gemv: int8 weights packed without scales cannot give f32 results");
  const Tensor<float, 1> xc(x);
  std::vector<std::uint8_t> q(w.k());
  float scale = 1;
  std::int32_t zero = 0;
  quantize_rows_u8(xc.data(), 1, w.k(), w.k(), q.data(), w.k(), &scale, &zero);
  Tensor<float, 1> yc({w.n()});
  gemm_u8s8_f32(q.data(), 1, w.k(), &scale, &zero, w, nullptr, yc.data(), w.n(), path);
  for (std::size_t r = 0; r < w.n(); ++r) y[r] = yc(r);
}

}  // namespace pare
