// SPDX-License-Identifier: Apache-2.0
// pare — scalar references of the f32 kernels: the test oracle and the fallback for strided views.
//
// Written for clarity, not speed: sums accumulate in double (a product of two floats is exact in
// double), exp/log are evaluated in double, and each result is rounded to float once. They take
// views of any stride and check nothing (@pre: the shapes agree, as the public wrappers check).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>

#include "pare/core/tensor.hpp"

namespace pare::kernels::reference {

/// Sum of a[i] * b[i], accumulated in double.
[[nodiscard]] inline float dot(TensorView<const float, 1> a,
                               TensorView<const float, 1> b) noexcept {
  double s = 0;
  for (std::size_t i = 0; i < a.extent(0); ++i)
    s += static_cast<double>(a[i]) * static_cast<double>(b[i]);
  return static_cast<float>(s);
}

/// y += alpha * x, each element computed in double and rounded once.
inline void axpy(float alpha, TensorView<const float, 1> x, TensorView<float, 1> y) noexcept {
  for (std::size_t i = 0; i < x.extent(0); ++i)
    y[i] = static_cast<float>(static_cast<double>(alpha) * static_cast<double>(x[i]) +
                              static_cast<double>(y[i]));
}

/// y = W x, each row accumulated in double. @pre y does not alias W or x.
inline void gemv(TensorView<const float, 2> w, TensorView<const float, 1> x,
                 TensorView<float, 1> y) noexcept {
  for (std::size_t r = 0; r < w.extent(0); ++r) y[r] = dot(w[r], x);
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

/// y = exp(x - max) / sum(exp(x - max)). -inf entries give 0; an all -inf (or any +inf / NaN)
/// input gives NaN, as in PyTorch. @pre y is x or does not overlap it.
inline void softmax(TensorView<const float, 1> x, TensorView<float, 1> y) noexcept {
  if (x.extent(0) == 0) return;
  const double m = detail::max_of(x);
  const double s = detail::sum_exp(x, m);
  for (std::size_t i = 0; i < x.extent(0); ++i)
    y[i] = static_cast<float>(std::exp(static_cast<double>(x[i]) - m) / s);
}

/// y = (x - max) - log(sum(exp(x - max))). -inf entries give -inf. @pre as for softmax.
inline void log_softmax(TensorView<const float, 1> x, TensorView<float, 1> y) noexcept {
  if (x.extent(0) == 0) return;
  const double m = detail::max_of(x);
  const double log_s = std::log(detail::sum_exp(x, m));
  for (std::size_t i = 0; i < x.extent(0); ++i)
    y[i] = static_cast<float>((static_cast<double>(x[i]) - m) - log_s);
}

/// Row-wise softmax of a matrix.
inline void softmax(TensorView<const float, 2> x, TensorView<float, 2> y) noexcept {
  for (std::size_t r = 0; r < x.extent(0); ++r) softmax(x[r], y[r]);
}

/// Row-wise log-softmax of a matrix.
inline void log_softmax(TensorView<const float, 2> x, TensorView<float, 2> y) noexcept {
  for (std::size_t r = 0; r < x.extent(0); ++r) log_softmax(x[r], y[r]);
}

}  // namespace pare::kernels::reference
