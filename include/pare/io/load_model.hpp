// SPDX-License-Identifier: Apache-2.0
// pare — load_model: open a model file of any format pare runs, recognized by its bytes.
//
//     pare::Model m = pare::load_model("model.onnx");
//     pare::graph::Value logits = m.run(x);   // x: pare::Tensor<float, 4>
//
// Runnable formats: ONNX (io/onnx.hpp) and .pare files written by save_model (the graph as JSON
// in the file's "graph" object, constants as tensors). Files that hold only tensors
// (safetensors, .npy, GGUF, PyTorch state_dicts, a .pare without a graph) give UnsupportedError.
//
//     pare::save_model(pare::load_model("model.onnx"), "model.pare");   // after BN folding
//     pare::Model same = pare::load_model("model.pare");
//
// The .pare graph object: {"kind": "pare.graph", "version": 1, "opset": N, "inputs": [names],
// optionally "input_shapes": [[dims, -1 for unknown], ...] (one per input, [] if undeclared),
// optionally "input_types": ["float32" | "int64" | ... | null, ...] (one per input),
// "outputs": [names], "constants": [tensor names], "nodes": [{"op", "name", "domain", "inputs",
// "outputs", "attrs": {name: {"f": x} | {"i": n} | {"s": str} | {"floats": [..]} |
// {"ints": [..]} | {"strings": [..]} | {"tensor": tensor name}}}]}. Constants are stored under
// their own names; a tensor attribute under "graph.node<k>.<attr>". Value types map to .pare
// dtypes f32, i8, u8, i32, i64, bool.
#pragma once

#include <filesystem>
#include <map>
#include <string>

#include "pare/core/error.hpp"
#include "pare/io/detect.hpp"
#include "pare/io/onnx.hpp"
#include "pare/io/pare_file.hpp"
#include "pare/nn/graph/graph.hpp"
#include "pare/nn/graph/model.hpp"
#include "pare/nn/graph/value.hpp"

namespace pare {

namespace io {

/// An ONNX tensor as a runtime value: float types become float32, integer types keep their type.
[[nodiscard]] graph::Value to_value(const OnnxTensor& t);

/// The runtime graph of a parsed ONNX model; `source` names the file in errors.
[[nodiscard]] graph::Graph to_graph(const OnnxModel& m, std::string source);

/// The runtime graph stored in a .pare file by save_model.
[[nodiscard]] graph::Graph to_graph(const PareFile& f);

}  // namespace io

/// Saves `m` (its graph after load-time rewrites, and every constant) as a .pare file,
/// atomically. A model saved here loads back with load_model and gives bit-identical results.
void save_model(const Model& m, const std::filesystem::path& path,
                const std::map<std::string, std::string>& metadata = {});

/// Loads the model at `path`, whatever its extension: the format comes from the first bytes.
/// Throws FormatError for a malformed file, UnsupportedError for a format without a graph or an
/// op pare cannot run.
[[nodiscard]] Model load_model(const std::filesystem::path& path, ModelOptions options = {});

}  // namespace pare

#ifndef PARE_COMPILED_LIB
#include "pare/io/load_model-inl.hpp"
#endif
