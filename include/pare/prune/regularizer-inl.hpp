// SPDX-License-Identifier: Apache-2.0
// pare — definitions for prune/regularizer.hpp: compiled once into pare::compiled, or included by
// the header (core/config.hpp explains the two modes).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

#include "pare/core/error.hpp"
#include "pare/prune/regularizer.hpp"

namespace pare {

PARE_INLINE double L1Penalty::value(TensorView<const float, 2> w) const noexcept {
  double s = 0;
  for (std::size_t r = 0; r < w.extent(0); ++r)
    for (std::size_t c = 0; c < w.extent(1); ++c) s += std::abs(w(r, c));
  return strength * s;
}

PARE_INLINE void L1Penalty::add_gradient(TensorView<const float, 2> w,
                                         TensorView<float, 2> grad) const {
  check_same_shape(w.extents(), grad.extents(), "L1Penalty::add_gradient (weights vs grad)");
  for (std::size_t r = 0; r < w.extent(0); ++r)
    for (std::size_t c = 0; c < w.extent(1); ++c)
      grad(r, c) += w(r, c) > 0 ? strength : (w(r, c) < 0 ? -strength : 0.0f);
}

PARE_INLINE void L1Penalty::proximal(TensorView<float, 2> w, float lr) const noexcept {
  const float t = lr * strength;
  for (std::size_t r = 0; r < w.extent(0); ++r)
    for (std::size_t c = 0; c < w.extent(1); ++c) {
      const float a = std::abs(w(r, c)) - t;
      w(r, c) = a > 0 ? std::copysign(a, w(r, c)) : 0.0f;
    }
}

PARE_INLINE double L2Penalty::value(TensorView<const float, 2> w) const noexcept {
  double s = 0;
  for (std::size_t r = 0; r < w.extent(0); ++r)
    for (std::size_t c = 0; c < w.extent(1); ++c)
      s += static_cast<double>(w(r, c)) * static_cast<double>(w(r, c));
  return 0.5 * strength * s;
}

PARE_INLINE void L2Penalty::add_gradient(TensorView<const float, 2> w,
                                         TensorView<float, 2> grad) const {
  check_same_shape(w.extents(), grad.extents(), "L2Penalty::add_gradient (weights vs grad)");
  for (std::size_t r = 0; r < w.extent(0); ++r)
    for (std::size_t c = 0; c < w.extent(1); ++c) grad(r, c) += strength * w(r, c);
}

PARE_INLINE void L2Penalty::proximal(TensorView<float, 2> w, float lr) const noexcept {
  const float f = 1.0f / (1.0f + lr * strength);
  for (std::size_t r = 0; r < w.extent(0); ++r)
    for (std::size_t c = 0; c < w.extent(1); ++c) w(r, c) *= f;
}

PARE_INLINE double GroupLasso::value(TensorView<const float, 2> w) const {
  double s = 0;
  for (double n : norms(w)) s += n;
  return strength * s;
}

PARE_INLINE void GroupLasso::add_gradient(TensorView<const float, 2> w,
                                          TensorView<float, 2> grad) const {
  check_same_shape(w.extents(), grad.extents(), "GroupLasso::add_gradient (weights vs grad)");
  const auto n = norms(w);
  for (std::size_t r = 0; r < w.extent(0); ++r)
    for (std::size_t c = 0; c < w.extent(1); ++c) {
      const double g = n[axis == 0 ? r : c];
      if (g > 0) grad(r, c) += static_cast<float>(strength * w(r, c) / g);
    }
}

PARE_INLINE void GroupLasso::proximal(TensorView<float, 2> w, float lr) const {
  const auto n = norms(w);
  std::vector<float> f(n.size());
  for (std::size_t g = 0; g < n.size(); ++g)
    f[g] = n[g] > 0 ? static_cast<float>(std::max(0.0, 1.0 - lr * strength / n[g])) : 0.0f;
  for (std::size_t r = 0; r < w.extent(0); ++r)
    for (std::size_t c = 0; c < w.extent(1); ++c) w(r, c) *= f[axis == 0 ? r : c];
}

PARE_INLINE std::vector<double> GroupLasso::norms(TensorView<const float, 2> w) const {
  PARE_CHECK(axis < 2, ArgumentError, "GroupLasso: axis must be 0 (rows) or 1 (columns), got ",
             axis);
  std::vector<double> n(w.extent(axis), 0.0);
  for (std::size_t r = 0; r < w.extent(0); ++r)
    for (std::size_t c = 0; c < w.extent(1); ++c)
      n[axis == 0 ? r : c] += static_cast<double>(w(r, c)) * static_cast<double>(w(r, c));
  for (double& v : n) v = std::sqrt(v);
  return n;
}

}  // namespace pare
