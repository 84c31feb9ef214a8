// SPDX-License-Identifier: Apache-2.0
// pare — definitions for quant/smoothquant.hpp: compiled once into pare::compiled, or included by
// the header (core/config.hpp explains the two modes).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <span>
#include <vector>

#include "pare/core/error.hpp"
#include "pare/quant/smoothquant.hpp"

namespace pare {

PARE_INLINE void SmoothQuantCalibrator::observe(TensorView<const float, 2> x) {
  PARE_CHECK(x.extent(1) == max_.size(), ShapeError, "SmoothQuantCalibrator: batch ",
             to_string(x.extents()), " for ", max_.size(), " channels");
  for (std::size_t n = 0; n < x.extent(0); ++n)
    for (std::size_t j = 0; j < max_.size(); ++j) {
      const float v = std::abs(x(n, j));
      PARE_CHECK(std::isfinite(v), ArgumentError, "SmoothQuantCalibrator: element (", n, ", ", j,
                 ") is not finite");
      max_[j] = std::max(max_[j], v);
    }
}
PARE_INLINE std::vector<float> smoothquant_scales(std::span<const float> act_max,
                                                  TensorView<const float, 2> w, float alpha) {
  PARE_CHECK(alpha >= 0.0f && alpha <= 1.0f, ArgumentError, "SmoothQuant: alpha = ", alpha,
             ", needs [0, 1]");
  PARE_CHECK(act_max.size() == w.extent(1), ShapeError, "SmoothQuant: ", act_max.size(),
             " activation maxima for weights ", to_string(w.extents()));
  std::vector<float> s(w.extent(1));
  for (std::size_t j = 0; j < s.size(); ++j) {
    float wmax = 0;
    for (std::size_t o = 0; o < w.extent(0); ++o) wmax = std::max(wmax, std::abs(w(o, j)));
    const double a = std::max(act_max[j], 1e-5f), b = std::max(wmax, 1e-5f);
    s[j] = std::max(static_cast<float>(std::pow(a, alpha) / std::pow(b, 1.0 - alpha)), 1e-5f);
  }
  return s;
}
PARE_INLINE void scale_columns(TensorView<float, 2> w, std::span<const float> s) {
  PARE_CHECK(s.size() == w.extent(1), ShapeError, "scale_columns: ", s.size(),
             " scales for a matrix ", to_string(w.extents()));
  for (std::size_t o = 0; o < w.extent(0); ++o)
    for (std::size_t j = 0; j < s.size(); ++j) w(o, j) *= s[j];
}
PARE_INLINE void divide_rows(TensorView<float, 2> w, TensorView<float, 1> b,
                             std::span<const float> s) {
  PARE_CHECK(s.size() == w.extent(0) && b.extent(0) == w.extent(0), ShapeError,
             "divide_rows: ", s.size(), " scales for weights ", to_string(w.extents()),
             " and bias ", to_string(b.extents()));
  for (std::size_t j = 0; j < s.size(); ++j) {
    PARE_CHECK(s[j] > 0 && std::isfinite(s[j]), ArgumentError, "divide_rows: scale ", j, " = ",
               s[j], " is not positive and finite");
    for (std::size_t i = 0; i < w.extent(1); ++i) w(j, i) /= s[j];
    b(j) /= s[j];
  }
}
PARE_INLINE void divide_columns(TensorView<float, 2> x, std::span<const float> s) {
  PARE_CHECK(s.size() == x.extent(1), ShapeError, "divide_columns: ", s.size(),
             " scales for a matrix ", to_string(x.extents()));
  for (std::size_t n = 0; n < x.extent(0); ++n)
    for (std::size_t j = 0; j < s.size(); ++j) x(n, j) /= s[j];
}

}  // namespace pare
