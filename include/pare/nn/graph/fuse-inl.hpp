// SPDX-License-Identifier: Apache-2.0
// pare — definitions for nn/graph/fuse.hpp: compiled once into pare::compiled, or included by the
// header (core/config.hpp explains the two modes).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "pare/core/error.hpp"
#include "pare/nn/graph/fuse.hpp"
#include "pare/nn/graph/value.hpp"

namespace pare::graph {

namespace detail {

/// The scalar float value of `name` (an initializer or a Constant node's output), if it is one.
[[nodiscard]] inline std::optional<float> scalar_constant(const Graph& g, const std::string& name) {
  const Value* v = nullptr;
  if (auto it = g.constants.find(name); it != g.constants.end()) v = &it->second;
  for (const auto& n : g.nodes)
    if (n.op_type == "Constant" && n.outputs.size() == 1 && n.outputs[0] == name) {
      try {
        if (auto t = n.attrs.get_tensor("value")) v = t.get();
      } catch (const Error&) {
        return std::nullopt;
      }
    }
  if (v == nullptr || !v->is_float() || v->floats.size() != 1) return std::nullopt;
  return v->floats[0];
}

[[nodiscard]] inline bool near(std::optional<float> v, float want) {
  return v && std::abs(*v - want) <= 1e-4f * std::abs(want);
}

}  // namespace detail

PARE_INLINE std::size_t fuse_gelu(Graph& g) {
  auto producer = [&](const std::string& v) -> std::ptrdiff_t {
    for (std::size_t i = 0; i < g.nodes.size(); ++i)
      for (const auto& o : g.nodes[i].outputs)
        if (o == v) return static_cast<std::ptrdiff_t>(i);
    return -1;
  };
  auto uses = [&](const std::string& v) {
    std::size_t n = 0;
    for (const auto& node : g.nodes)
      for (const auto& in : node.inputs) n += in == v;
    for (const auto& o : g.outputs) n += o == v ? 2 : 0;  // a graph output must stay visible
    return n;
  };
  // the only consumer of `v`, when it has exactly one and it is `op` with 2 inputs
  auto sole_user = [&](const std::string& v, const char* op) -> std::ptrdiff_t {
    if (uses(v) != 1) return -1;
    for (std::size_t i = 0; i < g.nodes.size(); ++i)
      if (g.nodes[i].op_type == op && g.nodes[i].inputs.size() == 2 &&
          g.nodes[i].outputs.size() == 1 && g.nodes[i].domain.empty() &&
          (g.nodes[i].inputs[0] == v || g.nodes[i].inputs[1] == v))
        return static_cast<std::ptrdiff_t>(i);
    return -1;
  };
  auto other = [](const GraphNode& n, const std::string& v) {
    return n.inputs[0] == v ? n.inputs[1] : n.inputs[0];
  };
  std::size_t fused = 0;
  for (std::size_t e = 0; e < g.nodes.size(); ++e) {
    const GraphNode& erf = g.nodes[e];
    if (erf.op_type != "Erf" || erf.inputs.size() != 1 || erf.outputs.size() != 1) continue;
    const std::ptrdiff_t div = producer(erf.inputs[0]);
    if (div < 0 || uses(erf.inputs[0]) != 1) continue;
    const GraphNode& dn = g.nodes[static_cast<std::size_t>(div)];
    if (dn.op_type != "Div" || dn.inputs.size() != 2 ||
        !detail::near(detail::scalar_constant(g, dn.inputs[1]), std::sqrt(2.0f)))
      continue;
    const std::string x = dn.inputs[0];
    const std::ptrdiff_t add = sole_user(erf.outputs[0], "Add");
    if (add < 0) continue;
    const GraphNode& an = g.nodes[static_cast<std::size_t>(add)];
    if (!detail::near(detail::scalar_constant(g, other(an, erf.outputs[0])), 1.0f)) continue;
    const std::ptrdiff_t mul = sole_user(an.outputs[0], "Mul");
    if (mul < 0) continue;
    const GraphNode& mn = g.nodes[static_cast<std::size_t>(mul)];
    if (other(mn, an.outputs[0]) != x) continue;
    const std::ptrdiff_t half = sole_user(mn.outputs[0], "Mul");
    if (half < 0) continue;
    const GraphNode& hn = g.nodes[static_cast<std::size_t>(half)];
    if (!detail::near(detail::scalar_constant(g, other(hn, mn.outputs[0])), 0.5f)) continue;

    GraphNode gelu;
    gelu.op_type = "Gelu";
    gelu.name = hn.name.empty() ? erf.name : hn.name;
    gelu.inputs = {x};
    gelu.outputs = {hn.outputs[0]};
    gelu.attrs = Attributes(gelu.name);
    gelu.offset = dn.offset;
    std::vector<std::size_t> drop = {static_cast<std::size_t>(div), e,
                                     static_cast<std::size_t>(add), static_cast<std::size_t>(mul)};
    g.nodes[static_cast<std::size_t>(half)] = std::move(gelu);
    std::vector<GraphNode> kept;
    for (std::size_t i = 0; i < g.nodes.size(); ++i)
      if (std::find(drop.begin(), drop.end(), i) == drop.end())
        kept.push_back(std::move(g.nodes[i]));
    g.nodes = std::move(kept);
    ++fused;
    e = static_cast<std::size_t>(-1);  // indices moved: start over (++e wraps to 0)
  }
  return fused;
}

}  // namespace pare::graph
