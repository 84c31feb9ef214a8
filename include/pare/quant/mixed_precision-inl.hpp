// SPDX-License-Identifier: Apache-2.0
// pare — definitions for quant/mixed_precision.hpp: compiled once into pare::compiled, or included
// by the header (core/config.hpp explains the two modes).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pare/core/error.hpp"
#include "pare/core/json.hpp"
#include "pare/quant/detail/name_regex.hpp"
#include "pare/quant/format.hpp"
#include "pare/quant/granularity.hpp"
#include "pare/quant/mixed_precision.hpp"
#include "pare/quant/nf4.hpp"
#include "pare/quant/quantizer.hpp"
#include "pare/quant/scheme.hpp"
#include "pare/quant/search_observer.hpp"

namespace pare {

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

PARE_INLINE std::vector<FormatCandidate> default_format_candidates() {
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

PARE_INLINE bool FormatOverride::matches(std::string_view name) const {
  if (syntax == PatternSyntax::regex) return detail::NameRegex(pattern).matches(name);
  return glob_match(pattern, name);
}

PARE_INLINE bool FormatOverride::glob_match(std::string_view p, std::string_view s) noexcept {
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

PARE_INLINE std::vector<FormatOverride> parse_format_overrides(std::string_view spec,
                                                               PatternSyntax syntax) {
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

PARE_INLINE std::string to_string(const MixedPrecisionPlan& plan) {
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

PARE_INLINE Json to_json(const MixedPrecisionPlan& plan) {
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

PARE_INLINE MixedPrecisionPlan plan_from_overrides(const std::vector<LayerToPlan>& layers,
                                                   const std::vector<FormatOverride>& overrides,
                                                   const std::string& fallback,
                                                   const std::vector<FormatCandidate>& candidates) {
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

PARE_INLINE MixedPrecisionPlan plan_mixed_precision(
    const std::vector<LayerToPlan>& layers, double target_bpw,
    const std::vector<FormatOverride>& overrides, const std::vector<FormatCandidate>& candidates) {
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
