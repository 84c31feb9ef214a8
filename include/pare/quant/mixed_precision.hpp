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

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pare/core/error.hpp"
#include "pare/core/json.hpp"
#include "pare/core/tensor.hpp"
#include "pare/quant/detail/name_regex.hpp"
#include "pare/quant/format.hpp"
#include "pare/quant/granularity.hpp"
#include "pare/quant/nf4.hpp"
#include "pare/quant/quantizer.hpp"
#include "pare/quant/scheme.hpp"
#include "pare/quant/search_observer.hpp"

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
[[nodiscard]] inline std::vector<FormatCandidate> default_format_candidates() {
  std::vector<FormatCandidate> c;
  c.push_back({"f32", [](TensorView<const float, 2> w) { return Tensor<float, 2>(w); },
               [](const Shape<2>&) { return 32.0; }});
  c.push_back(quantizer_candidate<Quantizer<Int<8>, Symmetric, PerChannel>>("int8"));
  c.push_back(
      quantizer_candidate<Quantizer<Int<4>, Symmetric, PerGroup<32>, MseSearch>>("int4_g32"));
  c.push_back(
      quantizer_candidate<Quantizer<Int<4>, Symmetric, PerGroup<128>, MseSearch>>("int4_g128"));
  c.push_back({"nf4_g64", [](TensorView<const float, 2> w) { return dequantize(pack_nf4(w, 64)); },
               [](const Shape<2>& s) { return s[0] * s[1] == 0 ? 0.0 : 4.0 + 32.0 / 64.0; }});
  c.push_back(
      quantizer_candidate<Quantizer<Int<2>, Symmetric, PerGroup<32>, MseSearch>>("int2_g32"));
  return c;
}

/// How an override's pattern is read.
enum class PatternSyntax { glob, regex };

/// "layer pattern = format name".
struct FormatOverride {
  std::string pattern;
  std::string format;
  PatternSyntax syntax = PatternSyntax::glob;

  /// Whether `name` matches the whole pattern.
  [[nodiscard]] bool matches(std::string_view name) const {
    if (syntax == PatternSyntax::regex) return detail::NameRegex(pattern).matches(name);
    return glob_match(pattern, name);
  }

  /// `*` any run of characters, `?` one character, everything else literal.
  [[nodiscard]] static bool glob_match(std::string_view p, std::string_view s) noexcept {
    std::size_t pi = 0, si = 0, star = std::string_view::npos, mark = 0;
    while (si < s.size()) {
      if (pi < p.size() && (p[pi] == '?' || p[pi] == s[si])) {
        ++pi;
        ++si;
      } else if (pi < p.size() && p[pi] == '*') {
        star = pi++;
        mark = si;
      } else if (star != std::string_view::npos) {
        pi = star + 1;
        si = ++mark;
      } else {
        return false;
      }
    }
    while (pi < p.size() && p[pi] == '*') ++pi;
    return pi == p.size();
  }
};

/// Parses "pat=fmt[,pat=fmt...]" (llama.cpp's --tensor-type syntax; repeated flags can be joined
/// with commas). Throws ArgumentError for an entry without '=' or with an empty side, or a regex
/// that is malformed or uses what name_regex.hpp does not support (back-references,
/// look-arounds).
[[nodiscard]] inline std::vector<FormatOverride> parse_format_overrides(
    std::string_view spec, PatternSyntax syntax = PatternSyntax::glob) {
  std::vector<FormatOverride> out;
  std::size_t pos = 0;
  while (pos <= spec.size()) {
    const std::size_t end = std::min(spec.find(',', pos), spec.size());
    const std::string_view item = spec.substr(pos, end - pos);
    if (!item.empty()) {
      const std::size_t eq = item.rfind('=');
      PARE_CHECK(eq != std::string_view::npos && eq > 0 && eq + 1 < item.size(), ArgumentError,
                 "format override '", std::string(item), "' is not 'pattern=format'");
      FormatOverride o{std::string(item.substr(0, eq)), std::string(item.substr(eq + 1)), syntax};
      if (syntax == PatternSyntax::regex) {
        try {
          (void)detail::NameRegex(o.pattern);
        } catch (const ArgumentError& e) {
          throw ArgumentError("format override '" + std::string(item) + "': " + e.what());
        }
      }
      out.push_back(std::move(o));
    }
    pos = end + 1;
  }
  return out;
}

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
[[nodiscard]] inline std::string to_string(const MixedPrecisionPlan& plan) {
  std::string o = "layer                          format      weights    bpw   rel.error\n";
  char line[160];
  for (const auto& l : plan.layers) {
    // A name longer than the column is printed whole, past the line buffer.
    const int n = std::snprintf(line, sizeof line, "%-30s %-10s %8zu %6.3f  %.3e%s\n",
                                l.layer.c_str(), l.format.c_str(), l.weights, l.bits_per_weight,
                                l.error, l.overridden ? "  (override)" : "");
    if (n >= 0 && static_cast<std::size_t>(n) < sizeof line) {
      o += line;
    } else {
      std::string big(static_cast<std::size_t>(n > 0 ? n : 0) + 1, '\0');
      std::snprintf(big.data(), big.size(), "%-30s %-10s %8zu %6.3f  %.3e%s\n", l.layer.c_str(),
                    l.format.c_str(), l.weights, l.bits_per_weight, l.error,
                    l.overridden ? "  (override)" : "");
      big.pop_back();
      o += big;
    }
  }
  std::snprintf(line, sizeof line, "total: %.3f bits per weight (target %.3f)\n",
                plan.bits_per_weight(), plan.target_bits_per_weight);
  o += line;
  return o;
}

/// The plan as JSON, for a saved model's metadata.
[[nodiscard]] inline Json to_json(const MixedPrecisionPlan& plan) {
  Json layers = Json::array();
  for (const auto& l : plan.layers)
    layers.push_back(Json::object({{"layer", l.layer},
                                   {"format", l.format},
                                   {"weights", l.weights},
                                   {"bits_per_weight", l.bits_per_weight},
                                   {"relative_error", l.error},
                                   {"override", l.overridden}}));
  return Json::object({{"target_bits_per_weight", plan.target_bits_per_weight},
                       {"bits_per_weight", plan.bits_per_weight()},
                       {"layers", std::move(layers)}});
}

namespace detail {
[[nodiscard]] inline double relative_error(const LayerToPlan& l, TensorView<const float, 2> wq) {
  double num = 0, den = 0;
  const auto w = l.weight;
  if (l.inputs) {
    const auto x = *l.inputs;
    for (std::size_t n = 0; n < x.extent(0); ++n)
      for (std::size_t o = 0; o < w.extent(0); ++o) {
        double y = 0, d = 0;
        for (std::size_t i = 0; i < w.extent(1); ++i) {
          y += static_cast<double>(x(n, i)) * w(o, i);
          d += static_cast<double>(x(n, i)) * (static_cast<double>(w(o, i)) - wq(o, i));
        }
        num += d * d;
        den += y * y;
      }
  } else {
    for (std::size_t o = 0; o < w.extent(0); ++o)
      for (std::size_t i = 0; i < w.extent(1); ++i) {
        const double d = static_cast<double>(w(o, i)) - wq(o, i);
        num += d * d;
        den += static_cast<double>(w(o, i)) * w(o, i);
      }
  }
  return den == 0 ? (num == 0 ? 0.0 : HUGE_VAL) : num / den;
}

[[nodiscard]] inline const FormatCandidate& candidate_named(
    const std::vector<FormatCandidate>& candidates, const std::string& name) {
  for (const auto& c : candidates)
    if (c.name == name) return c;
  std::string known;
  for (const auto& c : candidates) known += (known.empty() ? "" : ", ") + c.name;
  throw ArgumentError("unknown format '" + name + "' (known: " + known + ")");
}
}  // namespace detail

/// The formats named by overrides only (layers no rule matches get `fallback`).
[[nodiscard]] inline MixedPrecisionPlan plan_from_overrides(
    const std::vector<LayerToPlan>& layers, const std::vector<FormatOverride>& overrides,
    const std::string& fallback,
    const std::vector<FormatCandidate>& candidates = default_format_candidates()) {
  MixedPrecisionPlan plan;
  for (const auto& l : layers) {
    LayerChoice c{l.name, fallback, l.weight.size(), 0, 0, false};
    for (const auto& o : overrides)
      if (o.matches(l.name)) {
        c.format = o.format;
        c.overridden = true;
        break;
      }
    const auto& f = detail::candidate_named(candidates, c.format);
    c.bits_per_weight = f.bits_per_weight(l.weight.extents());
    c.error = detail::relative_error(l, f.round_trip(l.weight).view());
    plan.layers.push_back(std::move(c));
  }
  return plan;
}

/// Chooses a format per layer so that the model's bits per weight is at most `target_bpw` with
/// the least summed relative error: layers start at their most precise candidate and the
/// downgrade adding the least error per bit saved is taken until the budget is met, then the
/// bits left over go to the upgrades removing the most error (layers an override matches keep
/// its format). Throws ArgumentError when even the smallest formats miss
/// the target.
[[nodiscard]] inline MixedPrecisionPlan plan_mixed_precision(
    const std::vector<LayerToPlan>& layers, double target_bpw,
    const std::vector<FormatOverride>& overrides = {},
    const std::vector<FormatCandidate>& candidates = default_format_candidates()) {
  PARE_CHECK(!candidates.empty(), ArgumentError, "mixed precision: no candidate formats");
  PARE_CHECK(target_bpw > 0, ArgumentError, "mixed precision: target bits per weight ", target_bpw,
             " is not positive");
  struct Option {
    std::size_t candidate;
    double bits;  // total bits of the layer
    double error;
  };
  std::vector<std::vector<Option>> options(layers.size());  // most bits first
  std::vector<std::size_t> pick(layers.size(), 0);
  MixedPrecisionPlan plan;
  plan.target_bits_per_weight = target_bpw;
  double total_bits = 0, total_weights = 0;
  for (std::size_t li = 0; li < layers.size(); ++li) {
    const auto& l = layers[li];
    const double n = static_cast<double>(l.weight.size());
    total_weights += n;
    std::optional<std::string> forced;
    for (const auto& o : overrides)
      if (o.matches(l.name)) {
        forced = o.format;
        break;
      }
    for (std::size_t ci = 0; ci < candidates.size(); ++ci) {
      const auto& c = candidates[ci];
      if (forced && c.name != *forced) continue;
      try {
        options[li].push_back({ci, c.bits_per_weight(l.weight.extents()) * n,
                               detail::relative_error(l, c.round_trip(l.weight).view())});
      } catch (const ArgumentError&) {
        if (forced) throw;  // a group size that does not divide this layer: not a candidate
      }
    }
    if (forced && options[li].empty()) (void)detail::candidate_named(candidates, *forced);
    PARE_CHECK(!options[li].empty(), ArgumentError, "mixed precision: no candidate format fits ",
               "layer '", l.name, "' of shape ", to_string(l.weight.extents()));
    std::sort(options[li].begin(), options[li].end(),
              [](const Option& a, const Option& b) { return a.bits > b.bits; });
    // Drop dominated options (more bits and no less error than a smaller one).
    std::vector<Option> kept;
    for (auto it = options[li].rbegin(); it != options[li].rend(); ++it)
      if (kept.empty() || it->error < kept.back().error) kept.push_back(*it);
    std::reverse(kept.begin(), kept.end());
    options[li] = std::move(kept);
    total_bits += options[li][0].bits;
    plan.layers.push_back({l.name, "", l.weight.size(), 0, 0, forced.has_value()});
  }
  const double budget = target_bpw * total_weights;
  while (total_bits > budget) {
    std::size_t best = layers.size();
    double best_ratio = std::numeric_limits<double>::infinity();
    for (std::size_t li = 0; li < layers.size(); ++li) {
      if (pick[li] + 1 >= options[li].size()) continue;
      const Option &now = options[li][pick[li]], &next = options[li][pick[li] + 1];
      const double ratio = (next.error - now.error) / (now.bits - next.bits);
      if (ratio < best_ratio) {
        best_ratio = ratio;
        best = li;
      }
    }
    PARE_CHECK(best < layers.size(), ArgumentError, "mixed precision: the smallest formats need ",
               total_bits / total_weights, " bits per weight, above the target ", target_bpw);
    total_bits -= options[best][pick[best]].bits - options[best][pick[best] + 1].bits;
    ++pick[best];
  }
  // The greedy descent can overshoot the budget by a whole step: spend what is left on the
  // upgrades that remove the most error, while they fit.
  for (bool improved = true; improved;) {
    improved = false;
    std::size_t best = layers.size(), best_to = 0;
    double best_gain = 0;
    for (std::size_t li = 0; li < layers.size(); ++li)
      for (std::size_t to = 0; to < pick[li]; ++to) {
        const Option &now = options[li][pick[li]], &up = options[li][to];
        if (total_bits + (up.bits - now.bits) > budget) continue;
        if (const double gain = now.error - up.error; gain > best_gain) {
          best_gain = gain;
          best = li;
          best_to = to;
        }
      }
    if (best < layers.size()) {
      total_bits += options[best][best_to].bits - options[best][pick[best]].bits;
      pick[best] = best_to;
      improved = true;
    }
  }
  for (std::size_t li = 0; li < layers.size(); ++li) {
    const Option& o = options[li][pick[li]];
    auto& c = plan.layers[li];
    c.format = candidates[o.candidate].name;
    c.bits_per_weight = c.weights == 0 ? 0.0 : o.bits / static_cast<double>(c.weights);
    c.error = o.error;
  }
  return plan;
}

}  // namespace pare
