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

#include <cstddef>
#include <span>
#include <vector>

#include "pare/core/config.hpp"
#include "pare/core/tensor.hpp"

namespace pare {

/// max |X_j| per input channel over calibration batches (the reference's act_scales).
class SmoothQuantCalibrator {
 public:
  explicit SmoothQuantCalibrator(std::size_t channels) : max_(channels, 0.0f) {}

  /// Adds a batch of inputs x [N, channels].
  void observe(TensorView<const float, 2> x);
  [[nodiscard]] std::span<const float> channel_max() const noexcept { return max_; }

 private:
  std::vector<float> max_;
};

/// s_j = max|X_j|^α / max|W_j|^(1−α) for weights w [out, in] (max over rows), each max and s
/// clamped to >= 1e-5. Throws ArgumentError for α outside [0, 1] or a size mismatch.
[[nodiscard]] std::vector<float> smoothquant_scales(std::span<const float> act_max,
                                                    TensorView<const float, 2> w, float alpha);

/// w[:, j] *= s[j] for w [out, in]: the weight side of a per-input-channel rescaling (SmoothQuant,
/// AWQ).
void scale_columns(TensorView<float, 2> w, std::span<const float> s);

/// w[j, :] /= s[j] and b[j] /= s[j]: the inverse of a rescaling folded into the layer that
/// produces the input, w [in, prev_in] and b [in]. Exact through ReLU (positive s commutes).
void divide_rows(TensorView<float, 2> w, TensorView<float, 1> b, std::span<const float> s);

/// x[:, j] /= s[j]: the inverse applied to the activations themselves.
void divide_columns(TensorView<float, 2> x, std::span<const float> s);

}  // namespace pare

#ifndef PARE_COMPILED_LIB
#include "pare/quant/smoothquant-inl.hpp"
#endif
