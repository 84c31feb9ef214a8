// SPDX-License-Identifier: Apache-2.0
// pare — definitions for nn/graph/model.hpp: compiled once into pare::compiled, or included by the
// header (core/config.hpp explains the two modes).
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "pare/core/error.hpp"
#include "pare/nn/graph/conv.hpp"
#include "pare/nn/graph/conv_fusion.hpp"
#include "pare/nn/graph/fold.hpp"
#include "pare/nn/graph/fuse.hpp"
#include "pare/nn/graph/linear.hpp"
#include "pare/nn/graph/model.hpp"
#include "pare/nn/graph/ops.hpp"

namespace pare {

PARE_INLINE Model::Model(graph::Graph g, ModelOptions options)
    : graph_(std::move(g)), options_(options) {
  graph::fold_constant_identities(graph_);
  if (options.fold_batch_norm) folded_ = graph::fold_batch_norm(graph_);
  if (options.fuse_gelu) fused_ = graph::fuse_gelu(graph_);
  compile();
}

PARE_INLINE std::map<std::string, graph::Value> Model::run(
    const std::map<std::string, graph::Value>& inputs) const {
  for (const auto& [name, v] : inputs) {
    (void)v;
    PARE_CHECK(slot_of_input(name) >= 0, ArgumentError, "the model has no input '", name, "'");
  }
  std::vector<const graph::Value*> at(slot_count_, nullptr);
  std::size_t c = 0;  // constants keep the map's order, as compile() numbered them
  for (const auto& kv : graph_.constants) at[constant_slots_[c++]] = &kv.second;
  for (std::size_t k = 0; k < graph_.inputs.size(); ++k) {
    auto it = inputs.find(graph_.inputs[k]);
    PARE_CHECK(it != inputs.end(), ArgumentError, "model input '", graph_.inputs[k],
               "' was not given");
    at[input_slots_[k]] = &it->second;
  }
  std::vector<graph::Value> values(slot_count_);
  std::vector<const graph::Value*> in;
  std::vector<graph::Value*> out;
  for (const Step& s : steps_) {
    in.clear();
    out.clear();
    for (int k : s.inputs) in.push_back(k < 0 ? nullptr : at[static_cast<std::size_t>(k)]);
    for (std::size_t k : s.outputs) out.push_back(&values[k]);
    s.fn(in, out);
    for (std::size_t k : s.outputs) at[k] = &values[k];
    for (std::size_t k : s.frees) {
      values[k] = graph::Value{};
      at[k] = nullptr;
    }
  }
  std::map<std::string, graph::Value> result;
  for (std::size_t k = 0; k < graph_.outputs.size(); ++k)
    result[graph_.outputs[k]] = *at[output_slots_[k]];
  return result;
}

PARE_INLINE graph::Value Model::run(const graph::Value& x) const {
  PARE_CHECK(graph_.inputs.size() == 1, ArgumentError, "the model has ", graph_.inputs.size(),
             " inputs; pass them by name");
  PARE_CHECK(!graph_.outputs.empty(), ArgumentError, "the model has no outputs");
  auto r = run(std::map<std::string, graph::Value>{{graph_.inputs[0], x}});
  return std::move(r[graph_.outputs[0]]);
}

PARE_INLINE int Model::slot_of_input(const std::string& name) const {
  for (std::size_t k = 0; k < graph_.inputs.size(); ++k)
    if (graph_.inputs[k] == name) return static_cast<int>(input_slots_[k]);
  return -1;
}

PARE_INLINE void Model::fail(const graph::GraphNode& n, std::size_t index,
                             const std::string& what) const {
  throw FormatError(
      graph_.source,
      ::pare::detail::concat("graph.node[", index, "] '", n.name, "' (", n.op_type, ")"), n.offset,
      what);
}

PARE_INLINE void Model::compile() {
  std::map<std::string, std::size_t> slot;
  auto add = [&](const std::string& name) {
    const std::size_t s = slot_count_++;
    slot.emplace(name, s);
    return s;
  };
  for (const auto& c : graph_.constants) constant_slots_.push_back(add(c.first));
  for (const auto& name : graph_.inputs) {
    if (slot.contains(name))
      throw FormatError(graph_.source, "graph.input", 0,
                        "input '" + name + "' is listed twice or is also an initializer");
    input_slots_.push_back(add(name));
  }
  const std::size_t n = graph_.nodes.size();
  std::map<std::string, std::size_t> producer;  // value name -> node index
  for (std::size_t i = 0; i < n; ++i) {
    if (graph_.nodes[i].outputs.empty()) fail(graph_.nodes[i], i, "the node has no outputs");
    for (const auto& o : graph_.nodes[i].outputs) {
      if (o.empty()) continue;
      if (slot.contains(o) || producer.contains(o))
        fail(graph_.nodes[i], i,
             "output '" + o +
                 "' is already defined by another node, an "
                 "initializer or a graph input");
      producer.emplace(o, i);
      add(o);
    }
  }
  // Kahn's algorithm over node -> node edges
  std::vector<std::size_t> pending(n, 0);
  std::vector<std::vector<std::size_t>> users(n);
  for (std::size_t i = 0; i < n; ++i)
    for (const auto& in : graph_.nodes[i].inputs) {
      if (in.empty()) continue;
      if (auto p = producer.find(in); p != producer.end()) {
        ++pending[i];
        users[p->second].push_back(i);
      } else if (!slot.contains(in)) {
        fail(graph_.nodes[i], i,
             "input '" + in + "' is not produced by any node, initializer or graph input");
      }
    }
  std::vector<std::size_t> order, ready;
  for (std::size_t i = n; i-- > 0;)
    if (pending[i] == 0) ready.push_back(i);
  while (!ready.empty()) {
    const std::size_t i = ready.back();
    ready.pop_back();
    order.push_back(i);
    for (std::size_t u : users[i])
      if (--pending[u] == 0) ready.push_back(u);
  }
  if (order.size() != n)
    for (std::size_t i = 0; i < n; ++i)
      if (pending[i] != 0) fail(graph_.nodes[i], i, "the graph has a cycle through this node");
  for (const auto& o : graph_.outputs) {
    auto it = slot.find(o);
    if (it == slot.end())
      throw FormatError(graph_.source, "graph.output", 0,
                        "output '" + o + "' is not produced by any node, initializer or input");
    output_slots_.push_back(it->second);
  }
  std::vector<graph::GraphNode> sorted;
  for (std::size_t i : order) sorted.push_back(std::move(graph_.nodes[i]));
  graph_.nodes = std::move(sorted);
  std::vector<std::size_t> last_use(slot_count_, SIZE_MAX);  // slot -> step
  // Conv chains fold into one step each (nn/graph/conv_fusion.hpp); the nodes they absorb get
  // none.
  std::map<std::size_t, graph::ConvChain> chain_at;
  std::vector<bool> absorbed(n, false);
  if (options_.fuse_conv) {
    auto chains = graph::plan_conv_fusion(graph_);
    auto linear = graph::plan_linear_fusion(graph_);
    chains.insert(chains.end(), std::make_move_iterator(linear.begin()),
                  std::make_move_iterator(linear.end()));
    for (auto& c : chains) {
      for (std::size_t k : c.absorbed) absorbed[k] = true;
      chain_at.emplace(c.conv, std::move(c));
    }
  }
  // Every op this model needs and pare does not run is reported at once, so that a user sees the
  // whole list instead of discovering the ops one load at a time.
  std::vector<std::string> unsupported;
  for (std::size_t i = 0; i < n; ++i) {
    if (absorbed[i]) continue;
    const auto& node = graph_.nodes[i];
    const auto chain = chain_at.find(i);
    Step s;
    std::vector<std::string> ins = node.inputs, outs = node.outputs;
    if (graph::is_packed_op(node)) {
      // a compressed node's weights come from the file: a bad one is a malformed file
      try {
        s.fn = graph::make_op(node, graph_.opset, &graph_.constants);
      } catch (const FormatError&) {
        throw;
      } catch (const Error& e) {
        fail(node, i, e.what());
      }
    } else if (chain != chain_at.end() && node.op_type == "MatMul") {
      const std::string& bias = chain->second.residual;
      s.fn = graph::make_matmul(node, graph_.constants,
                                bias.empty() ? nullptr : &graph_.constants.at(bias),
                                chain->second.epilogue);
      outs = chain->second.outputs;
    } else if (chain != chain_at.end()) {
      const bool residual = !chain->second.residual.empty();
      s.fn = graph::make_conv(node, &graph_.constants, chain->second.epilogue, residual);
      if (residual) {
        ins.resize(3);
        ins.push_back(chain->second.residual);
      }
      outs = chain->second.outputs;
    } else {
      try {
        s.fn = graph::make_op(node, graph_.opset, &graph_.constants);
      } catch (const UnsupportedError& e) {
        unsupported.emplace_back(e.what());
      }
    }
    for (const auto& in : ins) {
      if (in.empty()) {
        s.inputs.push_back(-1);
        continue;
      }
      const std::size_t k = slot.at(in);
      s.inputs.push_back(static_cast<int>(k));
      last_use[k] = steps_.size();
    }
    for (const auto& o : outs) {
      // an unnamed optional output still needs a place to be written
      s.outputs.push_back(o.empty() ? slot_count_++ : slot.at(o));
      if (o.empty()) last_use.push_back(SIZE_MAX);
    }
    steps_.push_back(std::move(s));
  }
  if (unsupported.size() == 1) throw UnsupportedError(unsupported.front());
  if (!unsupported.empty()) {
    std::string all = std::to_string(unsupported.size()) + " nodes of " + graph_.source +
                      " need what pare does not run:";
    for (const auto& u : unsupported) all += "\n  " + u;
    throw UnsupportedError(all);
  }
  std::vector<bool> keep(slot_count_, false);
  for (std::size_t k : output_slots_) keep[k] = true;
  for (std::size_t k : input_slots_) keep[k] = true;
  for (std::size_t k : constant_slots_) keep[k] = true;
  for (std::size_t k = 0; k < last_use.size(); ++k)
    if (!keep[k] && last_use[k] != SIZE_MAX) steps_[last_use[k]].frees.push_back(k);
}

}  // namespace pare
