// SPDX-License-Identifier: Apache-2.0
// pare — definitions for sparse/concepts.hpp: compiled once into pare::compiled, or included by the
// header (core/config.hpp explains the two modes).
#pragma once

#include <cstdint>

#include "pare/core/config.hpp"
#include "pare/core/error.hpp"
#include "pare/core/tensor.hpp"
#include "pare/sparse/concepts.hpp"

namespace pare::detail {

PARE_INLINE void check_mask_shape(TensorView<const float, 2> w,
                                  TensorView<const std::uint8_t, 2> m) {
  PARE_CHECK(w.extents() == m.extents(), ShapeError, "sparse conversion: weights ",
             to_string(w.extents()), " and mask ", to_string(m.extents()), " differ in shape");
}

}  // namespace pare::detail
