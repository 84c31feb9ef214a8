// SPDX-License-Identifier: Apache-2.0
// pare — mixed precision: which format each layer gets.
//
// Two ways, combinable:
//   overrides   "pattern=format" rules by layer name, as llama.cpp's `--tensor-type fc1.*=q8_0`
//               (parse_format_overrides): globs (`*`, `?`) by default, regexes in ECMAScript
//               syntax with PatternSyntax::regex (the subset quant/detail/name_regex.hpp lists:
//               classes, groups, alternation, quantifiers, anchors). The first matching rule wins.
//   automatic   measure each layer's sensitivity (relative output error on calibration inputs,
//               or weight error without them) for every candidate format, then pick per layer
//               the least total error whose bits-per-weight over the whole model meets a target
//               (plan_mixed_precision: greedy by error added per bit saved, from the most
//               precise format down).
// The result is a MixedPrecisionPlan: printable (to_string) and recordable as JSON (to_json) in
// a saved model's metadata. Formats are runtime names here, the edge where a config value becomes
// a type: apply the plan by visiting each layer's format name (see docs/quantization.md).
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pare/core/config.hpp"
#include "pare/core/error.hpp"
#include "pare/core/json.hpp"
#include "pare/core/tensor.hpp"
#include "pare/quant/quantizer.hpp"

namespace pare {

/// A format the planner may choose: a name, what it does to a weight matrix (the values it
/// stores), and its storage cost.
struct FormatCandidate {
  std::string name;
  /// The dequantized weights (what the model computes with after quantization).
  std::function<Tensor<float, 2>(TensorView<const float, 2>)> round_trip;
  /// Storage bits per weight for a matrix of this shape, scales included.
  std::function<double(const Shape<2>&)> bits_per_weight;
};

/// A Quantizer as a candidate.
template <class Q>
[[nodiscard]] FormatCandidate quantizer_candidate(std::string name, Q quantizer = {}) {
  return {std::move(name),
          [quantizer](TensorView<const float, 2> w) { return dequantize(quantizer.quantize(w)); },
          [quantizer](const Shape<2>& s) {
            Tensor<float, 2> probe(s, 0.0f);  // bits depend only on the shape
            return quantizer.quantize(probe.view()).bits_per_weight();
          }};
}

/// The built-in candidates, by name: f32 (32 bpw, exact), int8 (per-channel symmetric, 8.x bpw),
/// int4_g32 and int4_g128 (symmetric per group, MSE-searched ranges), nf4_g64 (NF4, absmax per
/// 64), int2_g32 (symmetric per group of 32).
[[nodiscard]] std::vector<FormatCandidate> default_format_candidates();

/// How an override's pattern is read.
enum class PatternSyntax { glob, regex };

/// "layer pattern = format name".
struct FormatOverride {
  std::string pattern;
  std::string format;
  PatternSyntax syntax = PatternSyntax::glob;

  /// Whether `name` matches the whole pattern.
  [[nodiscard]] bool matches(std::string_view name) const;

  /// `*` any run of characters, `?` one character, everything else literal.
  [[nodiscard]] static bool glob_match(std::string_view p, std::string_view s) noexcept;
};

/// Parses "pat=fmt[,pat=fmt...]" (llama.cpp's --tensor-type syntax; repeated flags can be joined
/// with commas). Throws ArgumentError for an entry without '=' or with an empty side, or a regex
/// that is malformed or uses what name_regex.hpp does not support (back-references,
/// look-arounds).
[[nodiscard]] std::vector<FormatOverride> parse_format_overrides(
    std::string_view spec, PatternSyntax syntax = PatternSyntax::glob);

/// One layer offered to the planner: its name, weights [out, in] and optionally calibration
/// inputs [n, in] (sensitivity is then the relative output error ‖X(W − Ŵ)ᵀ‖² / ‖XWᵀ‖², else the
/// relative weight error ‖W − Ŵ‖² / ‖W‖²).
struct LayerToPlan {
  std::string name;
  TensorView<const float, 2> weight;
  std::optional<TensorView<const float, 2>> inputs;
};

/// What the planner chose for one layer.
struct LayerChoice {
  std::string layer;
  std::string format;
  std::size_t weights = 0;
  double bits_per_weight = 0;
  double error = 0;         ///< relative error of the chosen format
  bool overridden = false;  ///< fixed by an override rather than chosen
};

/// The formats of a whole model.
struct MixedPrecisionPlan {
  std::vector<LayerChoice> layers;
  double target_bits_per_weight = 0;  ///< 0 when only overrides were applied

  /// Bits per weight over all layers, scales included.
  [[nodiscard]] double bits_per_weight() const noexcept {
    double bits = 0, n = 0;
    for (const auto& l : layers) {
      bits += l.bits_per_weight * static_cast<double>(l.weights);
      n += static_cast<double>(l.weights);
    }
    return n == 0 ? 0.0 : bits / n;
  }
  /// The format chosen for a layer; throws ArgumentError for an unknown layer.
  [[nodiscard]] const std::string& format_of(std::string_view layer) const {
    for (const auto& l : layers)
      if (l.layer == layer) return l.format;
    throw ArgumentError("mixed precision plan has no layer '" + std::string(layer) + "'");
  }
};

/// A table, one layer a line, and the total.
[[nodiscard]] std::string to_string(const MixedPrecisionPlan& plan);

/// The plan as JSON, for a saved model's metadata.
[[nodiscard]] Json to_json(const MixedPrecisionPlan& plan);

/// The formats named by overrides only (layers no rule matches get `fallback`).
[[nodiscard]] MixedPrecisionPlan plan_from_overrides(
    const std::vector<LayerToPlan>& layers, const std::vector<FormatOverride>& overrides,
    const std::string& fallback,
    const std::vector<FormatCandidate>& candidates = default_format_candidates());

/// Chooses a format per layer so that the model's bits per weight is at most `target_bpw` with
/// the least summed relative error: layers start at their most precise candidate and the
/// downgrade adding the least error per bit saved is taken until the budget is met, then the
/// bits left over go to the upgrades removing the most error (layers an override matches keep
/// its format). Throws ArgumentError when even the smallest formats miss
/// the target.
[[nodiscard]] MixedPrecisionPlan plan_mixed_precision(
    const std::vector<LayerToPlan>& layers, double target_bpw,
    const std::vector<FormatOverride>& overrides = {},
    const std::vector<FormatCandidate>& candidates = default_format_candidates());

}  // namespace pare

#ifndef PARE_COMPILED_LIB
#include "pare/quant/mixed_precision-inl.hpp"
#endif
