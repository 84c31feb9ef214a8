// SPDX-License-Identifier: Apache-2.0
// pare — a graph description: nodes with attributes, constant values, inputs and outputs.
//
// This is what an importer (io/load_model.hpp for ONNX, .pare's JSON graph) produces and what
// pare::Model compiles. It is plain data, so graph rewrites (BatchNormalization folding) are
// ordinary functions over it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "pare/nn/graph/attributes.hpp"
#include "pare/nn/graph/value.hpp"

namespace pare::graph {

struct GraphNode {
  std::string op_type;
  std::string name;
  std::string domain;               ///< "" (or "ai.onnx") for standard ops
  std::vector<std::string> inputs;  ///< "" marks an omitted optional input
  std::vector<std::string> outputs;
  Attributes attrs;
  std::uint64_t offset = 0;  ///< where the node came from in its file (for errors)
};

struct Graph {
  std::string source;      ///< the file the graph came from, named in errors
  std::int64_t opset = 0;  ///< default-domain opset version (0: unknown, newest semantics)
  std::vector<GraphNode> nodes;
  std::map<std::string, Value> constants;  ///< initializers
  std::vector<std::string> inputs;         ///< values the caller provides
  /// The shape the file declares for each input (-1 for a symbolic or unknown dimension), one
  /// entry per input; an empty entry when that input's shape is not declared. Empty as a whole
  /// when the graph carries no shapes. Running the graph does not use it; callers that feed
  /// flat samples read it (and the CLI reshapes by it).
  std::vector<std::vector<std::int64_t>> input_shapes;
  /// The element type the file declares for each input, one entry per input (nullopt where it
  /// declares none pare has); empty as a whole when the graph carries no types. Like
  /// input_shapes, run() does not read it: a server checks requests against it.
  std::vector<std::optional<ValueType>> input_types;
  std::vector<std::string> outputs;  ///< values run() returns
};

}  // namespace pare::graph
