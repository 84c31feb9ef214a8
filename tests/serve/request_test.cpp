// SPDX-License-Identifier: Apache-2.0
// The server's request decoders (serve/request.hpp): JSON and .npy bodies into checked inputs,
// every kind of bad body refused with its 4xx status, and outputs encoded back.
#include <catch2/catch.hpp>

#include <cstring>
#include <string>
#include <vector>

#include "pare/serve/request.hpp"

using pare::graph::Value;
using pare::graph::ValueType;
using pare::serve::InputSpec;
using pare::serve::RequestError;

namespace {

const std::vector<InputSpec> one_float{{"x", {-1, 3}, ValueType::f32}};
const std::vector<InputSpec> two_inputs{{"ids", {-1, -1}, ValueType::i64},
                                        {"mask", {-1, -1}, ValueType::boolean}};

int status_of(std::string_view body, const std::vector<InputSpec>& specs,
              const pare::serve::RequestLimits& limits = {}) {
  try {
    (void)pare::serve::parse_json_request(body, specs, limits);
  } catch (const RequestError& e) {
    return e.status();
  }
  return 200;
}

std::vector<std::byte> npy_bytes(const Value& v) {
  const std::string s = pare::serve::value_npy(v);
  std::vector<std::byte> b(s.size());
  std::memcpy(b.data(), s.data(), s.size());
  return b;
}

}  // namespace

TEST_CASE("request: JSON inputs and instances decode to the same values") {
  const auto a = pare::serve::parse_json_request(
      R"({"inputs": [[1, 2.5, -3e2], [0.1, 5, 6]], "ignored": {"k": [1, "x", null]}})", one_float);
  const auto b =
      pare::serve::parse_json_request(R"({"instances": [[1, 2.5, -3e2], [0.1, 5, 6]]})", one_float);
  REQUIRE(a.rows == 2);
  REQUIRE(a.inputs[0].shape == std::vector<std::size_t>{2, 3});
  REQUIRE(a.inputs[0].floats == std::vector<float>{1, 2.5f, -300, 0.1f, 5, 6});
  REQUIRE(b.inputs[0].floats == a.inputs[0].floats);
  REQUIRE(b.inputs[0].shape == a.inputs[0].shape);
}

TEST_CASE("request: several named inputs, by object and by instance objects") {
  const auto a = pare::serve::parse_json_request(
      R"({"inputs": {"mask": [[true, false, 1]], "ids": [[7, -2, 9000000000]]}})", two_inputs);
  REQUIRE(a.rows == 1);
  REQUIRE(a.inputs[0].type == ValueType::i64);
  REQUIRE(a.inputs[0].ints == std::vector<std::int64_t>{7, -2, 9000000000});
  REQUIRE(a.inputs[1].ints == std::vector<std::int64_t>{1, 0, 1});
  const auto b = pare::serve::parse_json_request(
      R"({"instances": [{"ids": [1, 2], "mask": [1, 1]}, {"mask": [0, 1], "ids": [3, 4]}]})",
      two_inputs);
  REQUIRE(b.rows == 2);
  REQUIRE(b.inputs[0].shape == std::vector<std::size_t>{2, 2});
  REQUIRE(b.inputs[0].ints == std::vector<std::int64_t>{1, 2, 3, 4});
  REQUIRE(b.inputs[1].ints == std::vector<std::int64_t>{1, 1, 0, 1});
}

TEST_CASE("request: bad JSON bodies get 400, wrong shapes and types 422, too much 413") {
  // malformed
  for (const char* body :
       {"", "{", "[1, 2]", R"({"inputs": [[1, 2, 3]]} x)", R"({"inputs": [[1, 2, 3]],})",
        R"({"inputs": [[1, 2, 3]})", R"({"inputs": [[1, 2, 3]], "inputs": [[1, 2, 3]]})",
        R"({"inputs": [[1, 2, 0x3]]})", R"({"inputs": [[1, 2, +3]]})",
        R"({"a": "\q", "inputs": [[1, 2, 3]]})", R"({"a": tru})", R"({"other": 1})",
        "{\"a\": \"\x01\"}"})
    CHECK(status_of(body, one_float) == 400);
  // well-formed, wrong for the model
  for (const char* body :
       {R"({"inputs": [[1, 2]]})", R"({"inputs": [1, 2, 3]})", R"({"inputs": [[[1, 2, 3]]]})",
        R"({"inputs": [[1, 2, 3], [4, 5]]})", R"({"inputs": [[1, 2, 3], 4]})",
        R"({"inputs": [[1, [2], 3]]})", R"({"inputs": [[1, null, 3]]})",
        R"({"inputs": [[1, "2", 3]]})", R"({"inputs": [[1, true, 3]]})", R"({"inputs": []})",
        R"({"inputs": [[1, 2, 1e39]]})", R"({"instances": []})",
        R"({"inputs": {"y": [[1, 2, 3]]}})"})
    CHECK(status_of(body, one_float) == 422);
  for (const char* body :
       {R"({"inputs": {"ids": [[1.5]], "mask": [[1]]}})", R"({"inputs": {"ids": [[1]]}})",
        R"({"inputs": {"ids": [[1]], "mask": [[2]]}})",
        R"({"inputs": {"ids": [[1], [2]], "mask": [[1]]}})",
        R"({"inputs": {"ids": [[99999999999999999999]], "mask": [[1]]}})", R"({"inputs": [[1]]})",
        R"({"instances": [{"ids": [1]}]})"})
    CHECK(status_of(body, two_inputs) == 422);
  CHECK(status_of(R"({"inputs": [[1, 2, 3], [4, 5, 6]]})", one_float, {.max_elements = 5}) == 413);
  // nesting bombs stop at the depth limit, without recursion to the end
  CHECK(status_of("{\"a\": " + std::string(100000, '[') + "}", one_float) == 400);
  CHECK(status_of("{\"inputs\": " + std::string(100000, '[') + "}", one_float) == 400);
}

TEST_CASE("request: .npy bodies in exactly the declared type") {
  Value v;
  v.shape = {2, 3};
  v.floats = {1, 2, 3, 4, 5, 6};
  const auto r = pare::serve::parse_npy_request(npy_bytes(v), one_float);
  REQUIRE(r.rows == 2);
  REQUIRE(r.inputs[0].floats == v.floats);
  Value ints;
  ints.type = ValueType::i64;
  ints.shape = {2, 3};
  ints.ints = {1, 2, 3, 4, 5, 6};
  auto status = [](std::span<const std::byte> b, const std::vector<InputSpec>& s) {
    try {
      (void)pare::serve::parse_npy_request(b, s);
    } catch (const RequestError& e) {
      return e.status();
    }
    return 200;
  };
  CHECK(status(npy_bytes(ints), one_float) == 422);  // int64 for a float32 input: not converted
  auto bytes = npy_bytes(v);
  CHECK(status(std::span(bytes).first(bytes.size() - 1), one_float) == 400);  // truncated
  bytes[0] = std::byte{0};
  CHECK(status(bytes, one_float) == 400);  // not a .npy
  CHECK(status(npy_bytes(v), two_inputs) == 422);
  v.shape = {3, 2};
  CHECK(status(npy_bytes(v), one_float) == 422);  // wrong trailing dimension
}

TEST_CASE("request: outputs as JSON (exact floats) and as .npy") {
  Value y;
  y.shape = {1, 3};
  y.floats = {0.1f, -2.0f, 1e-30f};
  Value k;
  k.type = ValueType::i64;
  k.shape = {1};
  k.ints = {-5};
  const std::vector<std::string> names{"y", "k"};
  const std::vector<Value> values{y, k};
  const std::string json = pare::serve::outputs_json(names, values);
  REQUIRE(json ==
          R"({"outputs": {"y": {"dtype": "float32", "shape": [1, 3], "data": [0.1, -2, 1e-30]}, )"
          R"("k": {"dtype": "int64", "shape": [1], "data": [-5]}}})");
  // the JSON output reads back as the same floats
  const std::vector<InputSpec> spec{{"y", {}, ValueType::f32}};
  const auto back = pare::serve::parse_json_request(R"({"inputs": [[0.1, -2, 1e-30]]})", spec);
  REQUIRE(back.inputs[0].floats == y.floats);
  const auto npy = pare::serve::value_npy(k);
  REQUIRE(npy.substr(0, 6) == "\x93NUMPY");
  REQUIRE(npy.size() % 64 == 8);
}
