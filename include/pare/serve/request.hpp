// SPDX-License-Identifier: Apache-2.0
// pare — inference requests at the door of a server: request bodies decoded into a model's
// inputs, checked against what the model declares, and outputs encoded for the reply.
//
//     const auto specs = pare::serve::input_specs(model);          // names, shapes, types
//     pare::serve::Request r = pare::serve::parse_json_request(body, specs);
//     auto outputs = model.run(pare::serve::named_inputs(r, specs));
//
// JSON bodies (the TF Serving shapes, numbers only):
//   {"inputs": [[0.1, 0.2], [0.3, 0.4]]}              one input, batch dimension first
//   {"inputs": {"ids": [[1, 2]], "mask": [[1, 1]]}}    several inputs, by name
//   {"instances": [[0.1, 0.2], [0.3, 0.4]]}           one sample per instance
//   {"instances": [{"ids": [1, 2], "mask": [1, 1]}]}   several inputs, one object per instance
// Other top-level keys are ignored. A float32 input takes any JSON number (rounded to float once),
// an integer input only integer literals within its type's range, a bool input true/false/0/1.
// Raw bodies (.npy, `application/x-npy`) carry the single input of a one-input model, in exactly
// the declared element type: a float64 array for a float32 input is refused, not narrowed.
//
// Every malformed, oversized or mismatched request is a RequestError carrying the HTTP status a
// server should answer (400 malformed, 413 too large, 415 unsupported media, 422 wrong shape or
// type) and a message saying what was wrong; nothing here crashes on hostile bytes (fuzzed by
// tests/fuzz/fuzz_request.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pare/core/config.hpp"
#include "pare/core/error_types.hpp"
#include "pare/nn/graph/model.hpp"
#include "pare/nn/graph/value.hpp"

namespace pare::serve {

/// A request the server refuses, with the HTTP status to answer and a message for the client.
class RequestError : public Error {
 public:
  RequestError(int status, const std::string& what) : Error(what), status_(status) {}
  [[nodiscard]] int status() const noexcept { return status_; }

 private:
  int status_;
};

/// What a model takes for one input. `shape` holds -1 for a dimension the model leaves open and
/// is empty when the model declares no shape; `type` is nullopt when it declares no type (float32
/// is assumed then).
struct InputSpec {
  std::string name;
  std::vector<std::int64_t> shape;
  std::optional<graph::ValueType> type;
};

/// The inputs `m` declares (graph inputs, with the shapes and types of its file).
[[nodiscard]] std::vector<InputSpec> input_specs(const Model& m);

/// True when every input's first dimension is open (or undeclared), so requests can be stacked
/// along it into one batch.
[[nodiscard]] bool batchable(std::span<const InputSpec> specs) noexcept;

/// Bounds on one request.
struct RequestLimits {
  std::size_t max_elements = std::size_t{1} << 24;  ///< over all inputs of the request
  std::size_t max_depth = 32;                       ///< JSON nesting
};

/// A decoded request: one value per model input, in the order of the specs; `rows` is the
/// common size of their first dimension (1 for inputs of rank 0).
struct Request {
  std::vector<graph::Value> inputs;
  std::size_t rows = 0;
};

/// Decodes a JSON body (see the file comment). Throws RequestError.
[[nodiscard]] Request parse_json_request(std::string_view body, std::span<const InputSpec> specs,
                                         const RequestLimits& limits = {});

/// Decodes a .npy body for a one-input model. Throws RequestError.
[[nodiscard]] Request parse_npy_request(std::span<const std::byte> body,
                                        std::span<const InputSpec> specs,
                                        const RequestLimits& limits = {});

/// Checks decoded values against the specs (count, rank, fixed dimensions, element type, a
/// common first dimension) and returns the request; throws RequestError (422) naming the input.
[[nodiscard]] Request checked_request(std::vector<graph::Value> inputs,
                                      std::span<const InputSpec> specs);

/// The inputs of `r` by name, as Model::run takes them.
[[nodiscard]] std::map<std::string, graph::Value> named_inputs(const Request& r,
                                                               std::span<const InputSpec> specs);

/// {"outputs": {"name": {"shape": [...], "dtype": "float32", "data": [...]}, ...}} with floats
/// printed exactly (shortest text that reads back to the same float).
[[nodiscard]] std::string outputs_json(std::span<const std::string> names,
                                       std::span<const graph::Value> values);

/// `v` as a .npy image (float32 or the integer type it holds).
[[nodiscard]] std::string value_npy(const graph::Value& v);

}  // namespace pare::serve

#ifndef PARE_COMPILED_LIB
#include "pare/serve/request-inl.hpp"
#endif
