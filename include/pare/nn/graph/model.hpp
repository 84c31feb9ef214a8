// SPDX-License-Identifier: Apache-2.0
// pare — Model: a compiled runtime graph (nodes in topological order over named value slots).
//
//     pare::Model m = pare::load_model("model.onnx");     // io/load_model.hpp
//     pare::graph::Value y = m.run(x);                    // x: Tensor<float, R> or a Value
//     auto logits = y.to_tensor<2>();
//     auto outs = m.run({{"x", x_value}, {"mask", m_value}});   // several inputs / outputs
//
// Building a Model folds BatchNormalization into the Conv/Gemm before it (when that is exact),
// fuses the exported exact-GELU pattern into one Gelu node,
// checks that every node input is produced by a graph input, an initializer or exactly one
// earlier node, sorts the nodes topologically (a cycle is a FormatError) and builds each op's
// function once (an op pare does not have is an UnsupportedError naming it and its node).
// run() is const and keeps its intermediate values local, so one Model may serve several
// threads at once, each call giving its single-threaded output bit for bit (docs/concurrency.md);
// an intermediate value is freed right after its last use.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "pare/core/config.hpp"
#include "pare/core/tensor.hpp"
#include "pare/nn/graph/graph.hpp"
#include "pare/nn/graph/op.hpp"
#include "pare/nn/graph/value.hpp"

namespace pare {

struct ModelOptions {
  bool fold_batch_norm = true;  ///< merge inference BatchNormalization into the Conv/Gemm before it
  bool fuse_gelu = true;        ///< turn the exported Div/Erf/Add/Mul/Mul pattern into one Gelu
  /// run Conv [→ Add] [→ activation] chains as one kernel (nn/graph/conv_fusion.hpp); the graph
  /// keeps its nodes
  bool fuse_conv = true;
};

class Model {
 public:
  Model() = default;

  /// Compiles `g` (see the file comment). Throws FormatError (source file, node, offset) for an
  /// undefined or doubly defined value or a cycle, UnsupportedError for an unknown op.
  explicit Model(graph::Graph g, ModelOptions options = {});

  [[nodiscard]] const std::vector<std::string>& input_names() const noexcept {
    return graph_.inputs;
  }
  [[nodiscard]] const std::vector<std::string>& output_names() const noexcept {
    return graph_.outputs;
  }
  /// The graph after load-time rewrites, nodes in execution order.
  [[nodiscard]] const graph::Graph& graph() const noexcept { return graph_; }
  /// How many BatchNormalization nodes were folded away.
  [[nodiscard]] std::size_t folded_batch_norms() const noexcept { return folded_; }
  /// How many Gelu patterns were fused into one node.
  [[nodiscard]] std::size_t fused_gelus() const noexcept { return fused_; }

  /// Runs the graph on named inputs and returns every graph output by name.
  [[nodiscard]] std::map<std::string, graph::Value> run(
      const std::map<std::string, graph::Value>& inputs) const;

  /// Runs a model with one input and returns its first output.
  [[nodiscard]] graph::Value run(const graph::Value& x) const;
  template <std::size_t Rank>
  [[nodiscard]] graph::Value run(TensorView<const float, Rank> x) const {
    return run(graph::Value::from(x));
  }
  template <std::size_t Rank>
  [[nodiscard]] graph::Value run(TensorView<float, Rank> x) const {
    return run(graph::Value::from(x));
  }
  template <std::size_t Rank>
  [[nodiscard]] graph::Value run(const Tensor<float, Rank>& x) const {
    return run(graph::Value::from(x.view()));
  }

 private:
  struct Step {
    graph::OpFn fn;
    std::vector<int> inputs;  // slot, or -1 for an omitted optional input
    std::vector<std::size_t> outputs;
    std::vector<std::size_t> frees;  // slots whose last use is this step
  };

  [[nodiscard]] int slot_of_input(const std::string& name) const;

  [[noreturn]] void fail(const graph::GraphNode& n, std::size_t index,
                         const std::string& what) const;

  void compile();

  graph::Graph graph_;
  ModelOptions options_;
  std::size_t folded_ = 0;
  std::size_t fused_ = 0;
  std::size_t slot_count_ = 0;
  std::vector<std::size_t> constant_slots_;
  std::vector<std::size_t> input_slots_;
  std::vector<std::size_t> output_slots_;
  std::vector<Step> steps_;
};

}  // namespace pare

#ifndef PARE_COMPILED_LIB
#include "pare/nn/graph/model-inl.hpp"
#endif
