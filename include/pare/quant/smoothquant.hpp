// SPDX-License-Identifier: Apache-2.0
// pare — SmoothQuant (Xiao et al., ICML 2023): migrate activation outliers into the weights so
// that both quantize well to int8 (W8A8).
//
// Per input channel j, s_j = max|X_j|^α / max|W_j|^(1−α); the layer computes the same product
// with X' = X diag(s)⁻¹ and W' = W diag(s): X' has flatter channels, W' slightly less flat ones.
// α (migration strength) is 0.5 for most models, up to 0.75–0.85 for those with strong outliers.
// This follows the reference (mit-han-lab/smoothquant, smooth.py `smooth_ln_fcs`): both maxima
// are clamped to at least 1e-5 before use, and so is s.
//
//   pare::SmoothQuantCalibrator cal(in_features);
//   for (auto& batch : calibration) cal.observe(batch);       // the layer's inputs
//   auto s = pare::smoothquant_scales(cal.channel_max(), w, 0.5f);
//   pare::scale_columns(w, s);                               // W' = W diag(s)
//   // fold 1/s into what produces X: the previous layer's rows and bias (divide_rows), or a norm
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <span>
#include <vector>

#include "pare/core/error.hpp"
#include "pare/core/tensor.hpp"

namespace pare {

/// max |X_j| per input channel over calibration batches (the reference's act_scales).
class SmoothQuantCalibrator {
 public:
  explicit SmoothQuantCalibrator(std::size_t channels) : max_(channels, 0.0f) {}

  /// Adds a batch of inputs x [N, channels].
  void observe(TensorView<const float, 2> x) {
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
  [[nodiscard]] std::span<const float> channel_max() const noexcept { return max_; }

 private:
  std::vector<float> max_;
};

/// s_j = max|X_j|^α / max|W_j|^(1−α) for weights w [out, in] (max over rows), each max and s
/// clamped to >= 1e-5. Throws ArgumentError for α outside [0, 1] or a size mismatch.
[[nodiscard]] inline std::vector<float> smoothquant_scales(std::span<const float> act_max,
                                                           TensorView<const float, 2> w,
                                                           float alpha) {
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

/// w[:, j] *= s[j] for w [out, in]: the weight side of a per-input-channel rescaling (SmoothQuant,
/// AWQ).
inline void scale_columns(TensorView<float, 2> w, std::span<const float> s) {
  PARE_CHECK(s.size() == w.extent(1), ShapeError, "scale_columns: ", s.size(),
             " scales for a matrix ", to_string(w.extents()));
  for (std::size_t o = 0; o < w.extent(0); ++o)
    for (std::size_t j = 0; j < s.size(); ++j) w(o, j) *= s[j];
}

/// w[j, :] /= s[j] and b[j] /= s[j]: the inverse of a rescaling folded into the layer that
/// produces the input, w [in, prev_in] and b [in]. Exact through ReLU (positive s commutes).
inline void divide_rows(TensorView<float, 2> w, TensorView<float, 1> b, std::span<const float> s) {
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

/// x[:, j] /= s[j]: the inverse applied to the activations themselves.
inline void divide_columns(TensorView<float, 2> x, std::span<const float> s) {
  PARE_CHECK(s.size() == x.extent(1), ShapeError, "divide_columns: ", s.size(),
             " scales for a matrix ", to_string(x.extents()));
  for (std::size_t n = 0; n < x.extent(0); ++n)
    for (std::size_t j = 0; j < s.size(); ++j) x(n, j) /= s[j];
}

}  // namespace pare
