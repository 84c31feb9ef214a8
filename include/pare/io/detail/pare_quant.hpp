// SPDX-License-Identifier: Apache-2.0
// pare — how a QuantizedTensor's policies are named in a .pare group's "attributes"
// (docs/format.md, "Group kind quantized").
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "pare/core/error.hpp"
#include "pare/quant/format.hpp"
#include "pare/quant/granularity.hpp"

namespace pare::io::detail {

/// "int8", "uint4", "int2", ...: signedness from the code range, then the bit width.
/// True when `j` is an object whose "type" is the string `type` (never throws).
[[nodiscard]] inline bool pare_has_type(const nlohmann::json& j, const char* type) {
  if (!j.is_object()) return false;
  auto it = j.find("type");
  return it != j.end() && it->is_string() && it->get_ref<const std::string&>() == type;
}

template <QuantFormat F>
[[nodiscard]] std::string pare_format_name() {
  return (F::qmin < 0 ? "int" : "uint") + std::to_string(static_cast<int>(F::bits));
}

/// Serializes a granularity policy; specialized for the built-in ones. A user granularity opts in
/// by specializing it with `to_json(const G&)` and `from_json(const nlohmann::json&, G&)` (the
/// latter returns an error text, empty when the JSON describes a G).
template <class G>
struct PareGranularityCodec;

template <>
struct PareGranularityCodec<PerTensor> {
  static nlohmann::ordered_json to_json(const PerTensor&) { return {{"type", "per_tensor"}}; }
  static std::string from_json(const nlohmann::json& j, PerTensor&) {
    return pare_has_type(j, "per_tensor") ? std::string() : "is not {\"type\": \"per_tensor\"}";
  }
};

template <>
struct PareGranularityCodec<PerChannel> {
  static nlohmann::ordered_json to_json(const PerChannel& g) {
    return {{"type", "per_channel"}, {"axis", g.axis}};
  }
  static std::string from_json(const nlohmann::json& j, PerChannel& g) {
    if (!pare_has_type(j, "per_channel")) return "is not {\"type\": \"per_channel\", ...}";
    auto it = j.find("axis");
    if (it == j.end() || !it->is_number_unsigned() || it->get<std::uint64_t>() > 1)
      return "needs \"axis\": 0 or 1";
    g.axis = it->get<std::size_t>();
    return {};
  }
};

template <std::size_t N>
struct PareGranularityCodec<PerGroup<N>> {
  static nlohmann::ordered_json to_json(const PerGroup<N>&) {
    return {{"type", "per_group"}, {"group_size", N}};
  }
  static std::string from_json(const nlohmann::json& j, PerGroup<N>&) {
    if (!pare_has_type(j, "per_group")) return "is not {\"type\": \"per_group\", ...}";
    auto it = j.find("group_size");
    if (it == j.end() || !it->is_number_unsigned() || it->get<std::uint64_t>() != N)
      return ::pare::detail::concat("needs \"group_size\": ", N, " (the caller asked for PerGroup<",
                                    N, ">)");
    return {};
  }
};

/// A granularity policy .pare knows how to name.
template <class G>
concept PareGranularity = Granularity<G> && requires(const G& g, const nlohmann::json& j, G& out) {
  { PareGranularityCodec<G>::to_json(g) } -> std::convertible_to<nlohmann::ordered_json>;
  { PareGranularityCodec<G>::from_json(j, out) } -> std::convertible_to<std::string>;
};

static_assert(PareGranularity<PerTensor> && PareGranularity<PerChannel> &&
              PareGranularity<PerGroup<32>>);

}  // namespace pare::io::detail
