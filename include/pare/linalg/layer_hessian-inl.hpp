// SPDX-License-Identifier: Apache-2.0
// pare — definitions for linalg/layer_hessian.hpp: compiled once into pare::compiled, or included
// by the header (core/config.hpp explains the two modes).
#pragma once

#include <cmath>
#include <cstddef>

#include "pare/core/error.hpp"
#include "pare/linalg/dense_f64.hpp"
#include "pare/linalg/layer_hessian.hpp"

namespace pare {

PARE_INLINE LayerHessian::LayerHessian(std::size_t in_features) {
  PARE_CHECK(in_features > 0, ArgumentError, "LayerHessian needs in_features > 0");
  h_ = Tensor<double, 2>({in_features, in_features});
}

PARE_INLINE void LayerHessian::add(TensorView<const float, 2> x) {
  PARE_CHECK(x.extent(1) == in_features(), ShapeError, "LayerHessian::add: input ",
             to_string(x.extents()), " for a layer with ", in_features(), " inputs");
  const std::size_t n = x.extent(0);
  if (n == 0) return;
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < in_features(); ++j)
      PARE_CHECK(std::isfinite(x(i, j)), ArgumentError, "LayerHessian::add: element (", i, ", ", j,
                 ") is not finite");
  const double old = static_cast<double>(samples_);
  samples_ += n;
  const double total = static_cast<double>(samples_);
  // H ← (old/total)·H + (2/total)·XᵀX on the lower triangle, then mirrored.
  linalg::syrk_lower(2.0 / total, x, old / total, h_.view());
  linalg::symmetrize_from_lower(h_.view());
}

}  // namespace pare
