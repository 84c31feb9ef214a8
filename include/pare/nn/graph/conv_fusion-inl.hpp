// SPDX-License-Identifier: Apache-2.0
// pare — definitions for nn/graph/conv_fusion.hpp: compiled once into pare::compiled, or included
// by the header (core/config.hpp explains the two modes).
#pragma once

#include <cstddef>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "pare/nn/graph/conv_fusion.hpp"

namespace pare::graph {

PARE_INLINE bool fusable_activation(const GraphNode& n, const Graph& g, Epilogue& out) {
  if (!(n.domain.empty() || n.domain == "ai.onnx" || n.domain == "com.microsoft") ||
      n.inputs.empty() || n.outputs.size() != 1)
    return false;
  if (n.domain == "com.microsoft" && n.op_type != "Gelu") return false;
  const std::string& t = n.op_type;
  if (t == "Gelu" && n.domain == "com.microsoft") {
    out = {.kind = Activation::gelu};
    return true;
  }
  if (t == "Relu") {
    out = {.kind = Activation::relu};
    return true;
  }
  if (t == "Sigmoid") {
    out = {.kind = Activation::sigmoid};
    return true;
  }
  if (t == "Gelu" && n.attrs.get_string("approximate", "none") == "none") {
    out = {.kind = Activation::gelu};
    return true;
  }
  if (t == "HardSwish") {
    out = {.kind = Activation::hard_swish};
    return true;
  }
  if (t == "HardSigmoid") {
    out = {.kind = Activation::hard_sigmoid,
           .alpha = n.attrs.get_float("alpha", 0.2f),
           .beta = n.attrs.get_float("beta", 0.5f)};
    return true;
  }
  if (t == "Clip") {
    float lo = -std::numeric_limits<float>::infinity(), hi = std::numeric_limits<float>::infinity();
    if (g.opset != 0 && g.opset < 11) {
      lo = n.attrs.get_float("min", lo);
      hi = n.attrs.get_float("max", hi);
    } else {
      // bounds are inputs 1 and 2; fused only when they are stored scalars
      for (std::size_t k = 1; k < n.inputs.size() && k < 3; ++k) {
        if (n.inputs[k].empty()) continue;
        auto it = g.constants.find(n.inputs[k]);
        if (it == g.constants.end() || !it->second.is_float() || it->second.size() != 1)
          return false;
        (k == 1 ? lo : hi) = it->second.floats[0];
      }
    }
    if (!(lo <= hi)) return false;  // ONNX's Clip with min > max is not a clamp
    out = {.kind = Activation::clip, .lo = lo, .hi = hi};
    return true;
  }
  return false;
}

namespace detail {

// Which nodes read each value, for asking whether a value has exactly one reader.
class Readers {
 public:
  explicit Readers(const Graph& g) : outputs_(g.outputs.begin(), g.outputs.end()) {
    for (std::size_t i = 0; i < g.nodes.size(); ++i)
      for (const auto& in : g.nodes[i].inputs)
        if (!in.empty()) users_[in].push_back(i);
  }
  // The one node that reads `v`, when exactly one node reads it once and it is no graph output.
  [[nodiscard]] const std::size_t* sole(const std::string& v) const {
    if (outputs_.contains(v)) return nullptr;
    auto it = users_.find(v);
    return it != users_.end() && it->second.size() == 1 ? &it->second[0] : nullptr;
  }

 private:
  std::set<std::string> outputs_;
  std::map<std::string, std::vector<std::size_t>> users_;
};

}  // namespace detail

PARE_INLINE std::vector<ConvChain> plan_conv_fusion(const Graph& g) {
  const detail::Readers readers(g);
  std::map<std::string, std::size_t> producer;
  for (std::size_t i = 0; i < g.nodes.size(); ++i)
    for (const auto& o : g.nodes[i].outputs)
      if (!o.empty()) producer[o] = i;
  std::vector<bool> taken(g.nodes.size(), false);
  std::vector<ConvChain> chains;
  for (std::size_t i = 0; i < g.nodes.size(); ++i) {
    const GraphNode& n = g.nodes[i];
    if (taken[i] || n.op_type != "Conv" || !(n.domain.empty() || n.domain == "ai.onnx") ||
        n.outputs.size() != 1 || n.inputs.size() < 2)
      continue;
    ConvChain c;
    c.conv = i;
    std::string value = n.outputs[0];
    const std::size_t* next = readers.sole(value);
    if (next != nullptr && !taken[*next]) {
      const GraphNode& add = g.nodes[*next];
      if (add.op_type == "Add" && (add.domain.empty() || add.domain == "ai.onnx") &&
          add.inputs.size() == 2 && add.outputs.size() == 1 && add.inputs[0] != add.inputs[1]) {
        const std::string& other = add.inputs[0] == value ? add.inputs[1] : add.inputs[0];
        auto p = producer.find(other);
        const bool ready =
            p != producer.end() ? p->second < i : !g.constants.contains(other) && !other.empty();
        if (ready) {
          c.absorbed.push_back(*next);
          c.residual = other;
          value = add.outputs[0];
          next = readers.sole(value);
        }
      }
    }
    Epilogue e;
    if (next != nullptr && !taken[*next] && g.nodes[*next].inputs[0] == value &&
        fusable_activation(g.nodes[*next], g, e)) {
      c.absorbed.push_back(*next);
      c.epilogue = e;
    }
    if (c.absorbed.empty()) continue;
    for (std::size_t k : c.absorbed) taken[k] = true;
    c.outputs = g.nodes[c.absorbed.back()].outputs;
    chains.push_back(std::move(c));
  }
  return chains;
}

PARE_INLINE std::vector<ConvChain> plan_linear_fusion(const Graph& g) {
  const detail::Readers readers(g);
  auto standard = [](const GraphNode& n) { return n.domain.empty() || n.domain == "ai.onnx"; };
  std::vector<ConvChain> chains;
  for (std::size_t i = 0; i < g.nodes.size(); ++i) {
    const GraphNode& n = g.nodes[i];
    if (n.op_type != "MatMul" || !standard(n) || n.inputs.size() != 2 || n.outputs.size() != 1)
      continue;
    auto w = g.constants.find(n.inputs[1]);
    if (w == g.constants.end() || !w->second.is_float() || w->second.rank() != 2) continue;
    const std::size_t cols = w->second.shape[1];
    ConvChain c;
    c.conv = i;
    std::string value = n.outputs[0];
    const std::size_t* next = readers.sole(value);
    if (next != nullptr) {
      const GraphNode& add = g.nodes[*next];
      if (add.op_type == "Add" && standard(add) && add.inputs.size() == 2 &&
          add.outputs.size() == 1 && add.inputs[0] != add.inputs[1]) {
        const std::string& other = add.inputs[0] == value ? add.inputs[1] : add.inputs[0];
        auto b = g.constants.find(other);
        if (b != g.constants.end() && b->second.is_float() && b->second.size() == cols &&
            (b->second.rank() == 1 || (b->second.rank() == 2 && b->second.shape[0] == 1))) {
          c.absorbed.push_back(*next);
          c.residual = other;
          value = add.outputs[0];
          next = readers.sole(value);
        }
      }
    }
    Epilogue e;
    if (next != nullptr && g.nodes[*next].inputs[0] == value &&
        fusable_activation(g.nodes[*next], g, e)) {
      c.absorbed.push_back(*next);
      c.epilogue = e;
    }
    if (c.absorbed.empty()) continue;
    c.outputs = g.nodes[c.absorbed.back()].outputs;
    chains.push_back(std::move(c));
  }
  return chains;
}

}  // namespace pare::graph
