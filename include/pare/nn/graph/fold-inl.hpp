// SPDX-License-Identifier: Apache-2.0
// pare — definitions for nn/graph/fold.hpp: compiled once into pare::compiled, or included by the
// header (core/config.hpp explains the two modes).
#pragma once

#include <cmath>
#include <cstddef>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "pare/nn/graph/fold.hpp"
#include "pare/nn/graph/value.hpp"

namespace pare::graph {

namespace detail {

[[nodiscard]] inline const Value* constant(const Graph& g, const std::string& name) {
  auto it = g.constants.find(name);
  return it == g.constants.end() ? nullptr : &it->second;
}

/// Folds BN node `bn_index` into node `p`; false (and nothing changed) when it does not fit.
inline bool fold_one(Graph& g, std::size_t bn_index, std::size_t p) {
  const GraphNode& bn = g.nodes[bn_index];
  GraphNode& prod = g.nodes[p];
  if (bn.inputs.size() != 5 || bn.outputs.size() != 1) return false;
  const Value* scale = constant(g, bn.inputs[1]);
  const Value* bias = constant(g, bn.inputs[2]);
  const Value* mean = constant(g, bn.inputs[3]);
  const Value* var = constant(g, bn.inputs[4]);
  if (!scale || !bias || !mean || !var) return false;
  for (const Value* v : {scale, bias, mean, var})
    if (!v->is_float() || v->rank() != 1) return false;
  const std::size_t c = scale->size();
  if (c == 0) return false;
  if (bias->size() != c || mean->size() != c || var->size() != c) return false;
  const float eps = bn.attrs.get_float("epsilon", 1e-5f);

  const bool is_conv = prod.op_type == "Conv";
  if (prod.inputs.size() < 2) return false;
  const Value* w = constant(g, prod.inputs[1]);
  if (!w || !w->is_float() || w->rank() < 2) return false;
  const Value* b =
      prod.inputs.size() > 2 && !prod.inputs[2].empty() ? constant(g, prod.inputs[2]) : nullptr;
  if (prod.inputs.size() > 2 && !prod.inputs[2].empty() && !b) return false;
  if (b && (!b->is_float() || b->size() != c || b->rank() != 1)) return false;

  std::vector<float> s(c);
  for (std::size_t i = 0; i < c; ++i) s[i] = scale->floats[i] / std::sqrt(var->floats[i] + eps);

  Value w2 = *w;
  if (is_conv) {
    if (w->shape[0] != c) return false;
    const std::size_t per = w->size() / c;
    for (std::size_t i = 0; i < c; ++i)
      for (std::size_t j = 0; j < per; ++j) w2.floats[i * per + j] *= s[i];
  } else {  // Gemm: output column n of B' = transB ? B[n, :] : B[:, n]
    if (w->rank() != 2 || prod.attrs.get_int("transA", 0) != 0) return false;
    const bool tb = prod.attrs.get_int("transB", 0) != 0;
    const std::size_t rows = w->shape[0], cols = w->shape[1];
    if ((tb ? rows : cols) != c) return false;
    const float alpha = prod.attrs.get_float("alpha", 1.0f);
    for (std::size_t i = 0; i < rows; ++i)
      for (std::size_t j = 0; j < cols; ++j) w2.floats[i * cols + j] *= s[tb ? i : j] * alpha;
  }
  const float beta = is_conv ? 1.0f : prod.attrs.get_float("beta", 1.0f);
  Value b2 = Value::zeros({c});
  for (std::size_t i = 0; i < c; ++i) {
    const float b0 = b ? beta * b->floats[i] : 0.0f;
    b2.floats[i] = (b0 - mean->floats[i]) * s[i] + bias->floats[i];
  }
  const std::string wname = prod.inputs[1] + ":bn_folded:" + bn.name;
  const std::string bname = (b ? prod.inputs[2] : prod.name + ".bias") + ":bn_folded:" + bn.name;
  g.constants[wname] = std::move(w2);
  g.constants[bname] = std::move(b2);
  prod.inputs.resize(3);
  prod.inputs[1] = wname;
  prod.inputs[2] = bname;
  if (!is_conv) {
    Attribute one;
    one.kind = Attribute::Kind::float32;
    one.f = 1.0f;
    prod.attrs.set("alpha", one);
    prod.attrs.set("beta", one);
  }
  prod.outputs[0] = bn.outputs[0];
  g.nodes.erase(g.nodes.begin() + static_cast<std::ptrdiff_t>(bn_index));
  return true;
}

}  // namespace detail

PARE_INLINE std::size_t fold_batch_norm(Graph& g) {
  std::size_t folded = 0;
  for (std::size_t i = 0; i < g.nodes.size();) {
    const GraphNode& bn = g.nodes[i];
    bool done = false;
    if (bn.op_type == "BatchNormalization" && !bn.inputs.empty() && bn.outputs.size() == 1) {
      const std::string& x = bn.inputs[0];
      std::size_t producer = g.nodes.size(), uses = 0;
      for (std::size_t j = 0; j < g.nodes.size(); ++j) {
        for (const auto& o : g.nodes[j].outputs)
          if (o == x) producer = j;
        for (const auto& in : g.nodes[j].inputs) uses += in == x;
      }
      bool is_output = false;
      for (const auto& o : g.outputs) is_output |= o == x;
      if (producer < g.nodes.size() && uses == 1 && !is_output &&
          g.nodes[producer].outputs.size() == 1 &&
          (g.nodes[producer].op_type == "Conv" || g.nodes[producer].op_type == "Gemm"))
        done = detail::fold_one(g, i, producer);
    }
    if (done)
      ++folded;
    else
      ++i;
  }
  return folded;
}

PARE_INLINE std::size_t fold_constant_identities(Graph& g) {
  std::set<std::string> outputs(g.outputs.begin(), g.outputs.end());
  std::map<std::string, std::string> alias;  // Identity output -> the constant it copies
  std::vector<GraphNode> kept;
  for (auto& n : g.nodes) {
    const bool standard = n.domain.empty() || n.domain == "ai.onnx";
    if (standard && n.op_type == "Identity" && n.inputs.size() == 1 && n.outputs.size() == 1 &&
        !n.outputs[0].empty() && !outputs.contains(n.outputs[0]) &&
        !g.constants.contains(n.outputs[0])) {
      auto a = alias.find(n.inputs[0]);
      const std::string& source = a != alias.end() ? a->second : n.inputs[0];
      if (g.constants.contains(source)) {
        alias[n.outputs[0]] = source;
        continue;
      }
    }
    kept.push_back(std::move(n));
  }
  for (auto& n : kept)
    for (auto& in : n.inputs)
      if (auto a = alias.find(in); a != alias.end()) in = a->second;
  g.nodes = std::move(kept);
  return alias.size();
}

}  // namespace pare::graph
