// SPDX-License-Identifier: Apache-2.0
// pare — AWQ, activation-aware weight quantization (Lin et al., MLSys 2024).
//
// Weights that meet large activations matter most. AWQ scales input channel j of W by
// s_j = mean|X_j|^α before quantizing and divides the input (or the previous layer's output) by
// s_j, so salient channels get finer steps. α is searched on a grid in [0, 1) for the least
// layer-output error ‖X Wᵀ − X (Q(W diag s) diag s⁻¹)ᵀ‖². This follows the reference
// (mit-han-lab/llm-awq, auto_scale.py `_search_module_scale`): s is normalized by
// √(max s · min s), clamped to >= 1e-4, and α = 0 (s = 1, plain round-to-nearest) is on the
// grid, so AWQ is never worse than RTN on the calibration data.
//
//   auto r = pare::awq_search(Q{}, w, x);                 // x: the layer's calibration inputs
//   pare::scale_columns(w, r.scales);                     // then quantize w with Q
//   pare::divide_rows(prev_w, prev_b, r.scales);          // or divide_columns(x, r.scales)
#pragma once

#include <cmath>
#include <cstddef>
#include <limits>
#include <span>
#include <vector>

#include "pare/core/config.hpp"
#include "pare/core/error.hpp"
#include "pare/core/parallel.hpp"
#include "pare/core/tensor.hpp"
#include "pare/quant/quantizer.hpp"
#include "pare/quant/smoothquant.hpp"

namespace pare {

/// AWQ's search grid: α = 0, 1/grid, ..., (grid − 1)/grid (the reference uses 20).
struct AwqOptions {
  std::size_t grid = 20;
};

/// The chosen per-input-channel scales and the search's record.
struct AwqResult {
  std::vector<float> scales;   ///< s_j, to multiply W's columns by (and divide the input by)
  float alpha = 0;             ///< the chosen α
  double error = 0;            ///< mean squared output error at α
  std::vector<double> errors;  ///< the error at every grid point (errors[0]: plain RTN)
};

/// mean |X_j| per input channel (the reference's get_act_scale).
[[nodiscard]] std::vector<float> mean_abs_per_channel(TensorView<const float, 2> x);

/// AWQ's scales for one α: s = max(mean|X|^α, 1e-4), divided by √(max s · min s).
[[nodiscard]] std::vector<float> awq_scales(std::span<const float> act_mean, float alpha);

/// Searches α for `quantizer` on weights w [out, in] and calibration inputs x [n, in].
template <QuantFormat F, QuantScheme S, Granularity G, Observer O>
[[nodiscard]] AwqResult awq_search(const Quantizer<F, S, G, O>& quantizer,
                                   TensorView<const float, 2> w, TensorView<const float, 2> x,
                                   const AwqOptions& opt = {}) {
  PARE_CHECK(x.extent(1) == w.extent(1), ShapeError, "AWQ: inputs ", to_string(x.extents()),
             " for weights ", to_string(w.extents()));
  PARE_CHECK(opt.grid > 0, ArgumentError, "AWQ: the grid needs at least one point");
  const auto act = mean_abs_per_channel(x);
  // The float output once; each candidate's output error through the difference of weights.
  AwqResult best;
  best.error = std::numeric_limits<double>::infinity();
  const double outputs = static_cast<double>(x.extent(0) * w.extent(0));
  for (std::size_t k = 0; k < opt.grid; ++k) {
    const float alpha = static_cast<float>(k) / static_cast<float>(opt.grid);
    const auto s = awq_scales(act, alpha);
    Tensor<float, 2> ws(w);
    scale_columns(ws.view(), s);
    Tensor<float, 2> wq = dequantize(quantizer.quantize(ws.view()));
    for (std::size_t o = 0; o < wq.extent(0); ++o)
      for (std::size_t j = 0; j < s.size(); ++j) wq(o, j) /= s[j];
    // Σ_n Σ_o (x_n · (w_o − wq_o))², the search's dominant cost: samples in parallel, each
    // sample's sum over outputs a partial of its own, the partials summed in sample order, so
    // the error (and the α chosen) does not depend on the thread count.
    const std::size_t rows_out = w.extent(0), in = s.size();
    std::vector<double> diff(rows_out * in);
    for (std::size_t o = 0; o < rows_out; ++o)
      for (std::size_t j = 0; j < in; ++j)
        diff[o * in + j] = static_cast<double>(w(o, j)) - wq(o, j);
    std::vector<double> partial(x.extent(0), 0.0);
    parallel_for(0, x.extent(0), (std::size_t{1} << 18) / (rows_out * in + 1) + 1,
                 [&](std::size_t lo, std::size_t hi) {
                   for (std::size_t n = lo; n < hi; ++n) {
                     double e = 0;
                     for (std::size_t o = 0; o < rows_out; ++o) {
                       const double* dr = diff.data() + o * in;
                       double d = 0;
                       for (std::size_t j = 0; j < in; ++j)
                         d += static_cast<double>(x(n, j)) * dr[j];
                       e += d * d;
                     }
                     partial[n] = e;
                   }
                 });
    double err = 0;
    for (const double e : partial) err += e;
    err /= outputs;
    best.errors.push_back(err);
    if (err < best.error) {
      best.error = err;
      best.alpha = alpha;
      best.scales = s;
    }
  }
  return best;
}

}  // namespace pare

#ifndef PARE_COMPILED_LIB
#include "pare/quant/awq-inl.hpp"
#endif
