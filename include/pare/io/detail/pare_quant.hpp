// SPDX-License-Identifier: Apache-2.0
// pare — how a QuantizedTensor's policies are named in a .pare group's "attributes"
// (docs/format.md, "Group kind quantized").
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "pare/core/error.hpp"
#include "pare/core/json.hpp"
#include "pare/quant/code_format.hpp"
#include "pare/quant/format.hpp"
#include "pare/quant/granularity.hpp"

namespace pare::io::detail {

/// True when `j` is an object whose "type" is the string `type` (never throws).
[[nodiscard]] inline bool pare_has_type(const Json& j, const char* type) {
  const Json* t = j.find("type");
  return t != nullptr && t->is_string() && t->as_string() == type;
}

/// "int8", "uint4", "int2", ... for pare's integer grids, a user format's own `name`
/// (format_name, quant/code_format.hpp): a file never calls a user's format by a built-in name.
template <QuantFormat F>
[[nodiscard]] std::string pare_format_name() {
  return format_name<F>();
}

/// Serializes a granularity policy; specialized for the built-in ones. A user granularity opts in
/// by specializing it with `to_json(const G&)` returning a pare::Json object and
/// `from_json(const Json&, G&)` (which returns an error text, empty when the JSON describes a G).
template <class G>
struct PareGranularityCodec;

template <>
struct PareGranularityCodec<PerTensor> {
  static Json to_json(const PerTensor&) { return Json::object({{"type", "per_tensor"}}); }
  static std::string from_json(const Json& j, PerTensor&) {
    return pare_has_type(j, "per_tensor") ? std::string() : "is not {\"type\": \"per_tensor\"}";
  }
};

template <>
struct PareGranularityCodec<PerChannel> {
  static Json to_json(const PerChannel& g) {
    return Json::object({{"type", "per_channel"}, {"axis", g.axis}});
  }
  static std::string from_json(const Json& j, PerChannel& g) {
    if (!pare_has_type(j, "per_channel")) return "is not {\"type\": \"per_channel\", ...}";
    const Json* axis = j.find("axis");
    if (axis == nullptr || !axis->is_uint64() || axis->as_uint64() > 1)
      return "needs \"axis\": 0 or 1";
    g.axis = static_cast<std::size_t>(axis->as_uint64());
    return {};
  }
};

template <std::size_t N>
struct PareGranularityCodec<PerGroup<N>> {
  static Json to_json(const PerGroup<N>&) {
    return Json::object({{"type", "per_group"}, {"group_size", N}});
  }
  static std::string from_json(const Json& j, PerGroup<N>&) {
    if (!pare_has_type(j, "per_group")) return "is not {\"type\": \"per_group\", ...}";
    const Json* size = j.find("group_size");
    if (size == nullptr || !size->is_uint64() || size->as_uint64() != N)
      return ::pare::detail::concat("needs \"group_size\": ", N, " (the caller asked for PerGroup<",
                                    N, ">)");
    return {};
  }
};

/// A granularity policy .pare knows how to name.
template <class G>
concept PareGranularity = Granularity<G> && requires(const G& g, const Json& j, G& out) {
  { PareGranularityCodec<G>::to_json(g) } -> std::convertible_to<Json>;
  { PareGranularityCodec<G>::from_json(j, out) } -> std::convertible_to<std::string>;
};

static_assert(PareGranularity<PerTensor> && PareGranularity<PerChannel> &&
              PareGranularity<PerGroup<32>>);

}  // namespace pare::io::detail
