// SPDX-License-Identifier: Apache-2.0
// pare — definitions for kernels/reference.hpp: compiled once into pare::compiled, or included by
// the header (core/config.hpp explains the two modes).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>

#include "pare/core/config.hpp"
#include "pare/core/tensor.hpp"
#include "pare/kernels/reference.hpp"

namespace pare::kernels::reference {

// Calls between these are qualified: unqualified, argument-dependent lookup would also find
// pare::dot and pare::softmax (same signatures) whenever their headers come first.

PARE_INLINE float dot(TensorView<const float, 1> a, TensorView<const float, 1> b) noexcept {
  double s = 0;
  for (std::size_t i = 0; i < a.extent(0); ++i)
    s += static_cast<double>(a[i]) * static_cast<double>(b[i]);
  return static_cast<float>(s);
}

PARE_INLINE void axpy(float alpha, TensorView<const float, 1> x, TensorView<float, 1> y) noexcept {
  for (std::size_t i = 0; i < x.extent(0); ++i)
    y[i] = static_cast<float>(static_cast<double>(alpha) * static_cast<double>(x[i]) +
                              static_cast<double>(y[i]));
}

PARE_INLINE void gemv(TensorView<const float, 2> w, TensorView<const float, 1> x,
                      TensorView<float, 1> y) noexcept {
  for (std::size_t r = 0; r < w.extent(0); ++r) y[r] = reference::dot(w[r], x);
}

namespace detail {
inline float max_of(TensorView<const float, 1> x) noexcept {
  float m = x[0];
  for (std::size_t i = 1; i < x.extent(0); ++i) m = std::max(m, x[i]);
  return m;
}
inline double sum_exp(TensorView<const float, 1> x, double m) noexcept {
  double s = 0;
  for (std::size_t i = 0; i < x.extent(0); ++i) s += std::exp(static_cast<double>(x[i]) - m);
  return s;
}
}  // namespace detail

PARE_INLINE void softmax(TensorView<const float, 1> x, TensorView<float, 1> y) noexcept {
  if (x.extent(0) == 0) return;
  const double m = detail::max_of(x);
  const double s = detail::sum_exp(x, m);
  for (std::size_t i = 0; i < x.extent(0); ++i)
    y[i] = static_cast<float>(std::exp(static_cast<double>(x[i]) - m) / s);
}

PARE_INLINE void log_softmax(TensorView<const float, 1> x, TensorView<float, 1> y) noexcept {
  if (x.extent(0) == 0) return;
  const double m = detail::max_of(x);
  const double log_s = std::log(detail::sum_exp(x, m));
  for (std::size_t i = 0; i < x.extent(0); ++i)
    y[i] = static_cast<float>((static_cast<double>(x[i]) - m) - log_s);
}

PARE_INLINE void softmax(TensorView<const float, 2> x, TensorView<float, 2> y) noexcept {
  for (std::size_t r = 0; r < x.extent(0); ++r) reference::softmax(x[r], y[r]);
}

PARE_INLINE void log_softmax(TensorView<const float, 2> x, TensorView<float, 2> y) noexcept {
  for (std::size_t r = 0; r < x.extent(0); ++r) reference::log_softmax(x[r], y[r]);
}

}  // namespace pare::kernels::reference
