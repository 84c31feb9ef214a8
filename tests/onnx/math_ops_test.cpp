// SPDX-License-Identifier: Apache-2.0
// The math family of graph ops where ONNX's node tests leave something unexercised: the
// expected values come from numpy and torch (the values are in the comments' calls); hostile
// requests must end in a pare::Error, never in an out-of-memory kill or a wrong answer.
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "pare/core/error.hpp"
#include "pare/nn/graph/math_ops.hpp"

using pare::ArgumentError;
using pare::ShapeError;
using pare::UnsupportedError;
using pare::graph::Attribute;
using pare::graph::GraphNode;
using pare::graph::OpFn;
using pare::graph::Value;
using pare::graph::ValueType;

namespace {

GraphNode node(std::string op) {
  GraphNode n;
  n.op_type = std::move(op);
  n.name = "n";
  return n;
}

void set_int(GraphNode& n, std::string key, std::int64_t v) {
  Attribute a;
  a.kind = Attribute::Kind::int64;
  a.i = v;
  n.attrs.set(std::move(key), a);
}

void set_float(GraphNode& n, std::string key, float v) {
  Attribute a;
  a.kind = Attribute::Kind::float32;
  a.f = v;
  n.attrs.set(std::move(key), a);
}

Value floats(std::vector<std::size_t> shape, std::vector<float> v) {
  Value x;
  x.shape = std::move(shape);
  x.floats = std::move(v);
  return x;
}

Value ints(ValueType t, std::vector<std::size_t> shape, std::vector<std::int64_t> v) {
  Value x;
  x.type = t;
  x.shape = std::move(shape);
  x.ints = std::move(v);
  return x;
}

Value i64(std::vector<std::int64_t> v) {
  const std::size_t n = v.size();
  return ints(ValueType::i64, {n}, std::move(v));
}

Value scalar_i64(std::int64_t v) { return ints(ValueType::i64, {}, {v}); }

OpFn build(const GraphNode& n, std::int64_t opset = 18) {
  OpFn f = pare::graph::make_math_op(n, opset);
  REQUIRE(f);
  return f;
}

/// Runs `f` on `in` (nullptr entries are omitted optional inputs).
Value run(const OpFn& f, const std::vector<const Value*>& in) {
  Value y;
  Value* outs[] = {&y};
  f(in, outs);
  return y;
}

void check_floats(const Value& y, const std::vector<float>& want) {
  REQUIRE(y.type == ValueType::f32);
  REQUIRE(y.floats.size() == want.size());
  for (std::size_t i = 0; i < want.size(); ++i)
    CHECK(y.floats[i] == Approx(want[i]).epsilon(1e-5).margin(1e-7));
}

}  // namespace

TEST_CASE("math ops: activations pare's node tests do not cover", "[onnx][math]") {
  const Value x = floats({8}, {-3.5f, -1.0f, -0.25f, 0.0f, 0.5f, 2.0f, 30.0f, 100.0f});
  // torch.nn.functional.mish(x)
  check_floats(run(build(node("Mish")), {&x}),
               {-0.10409574955701828f, -0.3034014403820038f, -0.12992696464061737f, 0.0f,
                0.37524524331092834f, 1.9439589977264404f, 30.0f, 100.0f});
  // torch.nn.functional.softplus(x): no overflow to inf for large x
  check_floats(run(build(node("Softplus")), {&x}),
               {0.029750417917966843f, 0.3132616877555847f, 0.575939416885376f, 0.6931471824645996f,
                0.9740769863128662f, 2.1269280910491943f, 30.0f, 100.0f});
  // np.round(x): half to even
  const Value h = floats({6}, {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, 2.4999f});
  check_floats(run(build(node("Round")), {&h}), {0.0f, 2.0f, 2.0f, -0.0f, -2.0f, 2.0f});
}

TEST_CASE("math ops: Clip's attribute form (opset < 11) and omitted bounds", "[onnx][math]") {
  const Value x = floats({3}, {-2.0f, 0.5f, 3.0f});
  GraphNode n = node("Clip");
  set_float(n, "min", -1.0f);
  set_float(n, "max", 1.0f);
  check_floats(run(build(n, 6), {&x}), {-1.0f, 0.5f, 1.0f});         // np.clip(x, -1, 1)
  CHECK_THROWS_AS(pare::graph::make_math_op(n, 13), ArgumentError);  // attributes after opset 11
  const Value hi = floats({}, {1.0f});
  check_floats(run(build(node("Clip"), 13), {&x, nullptr, &hi}), {-2.0f, 0.5f, 1.0f});
  const Value big = ints(ValueType::i64, {2}, {std::numeric_limits<std::int64_t>::max(), -5});
  const Value lo = scalar_i64(std::numeric_limits<std::int64_t>::max() - 1);
  const Value y = run(build(node("Clip"), 13), {&big, &lo});
  CHECK(y.ints == std::vector<std::int64_t>{std::numeric_limits<std::int64_t>::max(),
                                            std::numeric_limits<std::int64_t>::max() - 1});
}

TEST_CASE("math ops: Cast truncates, wraps and saturates", "[onnx][math]") {
  GraphNode n = node("Cast");
  set_int(n, "to", 3);  // int8
  // np.array([-2.7, -0.5, 0.9, 3.99, 127, -128], np.float32).astype(np.int8)
  const Value f = floats({6}, {-2.7f, -0.5f, 0.9f, 3.99f, 127.0f, -128.0f});
  Value y = run(build(n), {&f});
  CHECK(y.type == ValueType::i8);
  CHECK(y.ints == std::vector<std::int64_t>{-2, 0, 0, 3, 127, -128});
  // np.array([200, -129, 256, -1, 300]).astype(np.int8), .astype(np.uint8)
  const Value w = i64({200, -129, 256, -1, 300});
  CHECK(run(build(n), {&w}).ints == std::vector<std::int64_t>{-56, 127, 0, -1, 44});
  set_int(n, "to", 2);
  CHECK(run(build(n), {&w}).ints == std::vector<std::int64_t>{200, 127, 0, 255, 44});
  // Out-of-range floats saturate (ONNX leaves them undefined; a plain C++ cast would be UB).
  const Value o = floats({3}, {1e10f, -1e10f, std::numeric_limits<float>::quiet_NaN()});
  CHECK(run(build(n), {&o}).ints == std::vector<std::int64_t>{255, 0, 0});
  set_int(n, "to", 9);  // bool: nonzero is true
  const Value b = floats({3}, {0.0f, -0.5f, std::numeric_limits<float>::quiet_NaN()});
  CHECK(run(build(n), {&b}).ints == std::vector<std::int64_t>{0, 1, 1});
  set_int(n, "to", 11);  // double
  CHECK_THROWS_AS(pare::graph::make_math_op(n, 18), UnsupportedError);
  set_int(n, "to", 8);  // string
  CHECK_THROWS_AS(pare::graph::make_math_op(n, 18), UnsupportedError);
}

TEST_CASE("math ops: integer CumSum, Range, Mod, Tile and BitShift", "[onnx][math]") {
  // np.cumsum([[1, 2, 3], [4, 5, 6]], axis=1) in int32
  const Value c = ints(ValueType::i32, {2, 3}, {1, 2, 3, 4, 5, 6});
  const Value axis = scalar_i64(1);
  Value y = run(build(node("CumSum")), {&c, &axis});
  CHECK(y.type == ValueType::i32);
  CHECK(y.ints == std::vector<std::int64_t>{1, 3, 6, 4, 9, 15});
  // np.arange(-9, 10, 4), np.arange(10, -9, -4)
  const Value s = scalar_i64(-9), l = scalar_i64(10), d = scalar_i64(4);
  CHECK(run(build(node("Range")), {&s, &l, &d}).ints ==
        std::vector<std::int64_t>{-9, -5, -1, 3, 7});
  const Value d2 = scalar_i64(-4);
  CHECK(run(build(node("Range")), {&l, &s, &d2}).ints ==
        std::vector<std::int64_t>{10, 6, 2, -2, -6});
  const Value lo = scalar_i64(std::numeric_limits<std::int64_t>::min());
  const Value hi = scalar_i64(std::numeric_limits<std::int64_t>::max());
  const Value step = scalar_i64(std::numeric_limits<std::int64_t>::max());
  CHECK(
      run(build(node("Range")), {&lo, &hi, &step}).ints ==
      std::vector<std::int64_t>{std::numeric_limits<std::int64_t>::min(), -1, 9223372036854775806});
  // np.mod and np.fmod of [-7, 7, -7, 7] by [3, -3, -3, 3]
  const Value a = i64({-7, 7, -7, 7}), b = i64({3, -3, -3, 3});
  CHECK(run(build(node("Mod")), {&a, &b}).ints == std::vector<std::int64_t>{2, -2, -1, 1});
  GraphNode fm = node("Mod");
  set_int(fm, "fmod", 1);
  CHECK(run(build(fm), {&a, &b}).ints == std::vector<std::int64_t>{-1, 1, -1, 1});
  // np.tile([[1, 2], [3, 4]], (2, 3))
  const Value t = ints(ValueType::i64, {2, 2}, {1, 2, 3, 4});
  const Value reps = i64({2, 3});
  y = run(build(node("Tile")), {&t, &reps});
  CHECK(y.shape == std::vector<std::size_t>{4, 6});
  CHECK(y.ints == std::vector<std::int64_t>{1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4,
                                            1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4});
  // np.tile(np.arange(6).reshape(1, 2, 3), (2, 1, 2)), and with a zero repeat
  const Value t3 = ints(ValueType::i32, {1, 2, 3}, {0, 1, 2, 3, 4, 5});
  const Value reps3 = i64({2, 1, 2});
  y = run(build(node("Tile")), {&t3, &reps3});
  CHECK(y.shape == std::vector<std::size_t>{2, 2, 6});
  CHECK(y.ints == std::vector<std::int64_t>{0, 1, 2, 0, 1, 2, 3, 4, 5, 3, 4, 5,
                                            0, 1, 2, 0, 1, 2, 3, 4, 5, 3, 4, 5});
  const Value reps0 = i64({2, 0, 2});
  y = run(build(node("Tile")), {&t3, &reps0});
  CHECK(y.shape == std::vector<std::size_t>{2, 0, 6});
  CHECK(y.ints.empty());
  // np.left_shift(np.uint8([1, 255, 3]), np.uint8([1, 1, 8])) (numpy gives 0 for shift >= 8)
  Attribute dir;
  dir.kind = Attribute::Kind::string;
  dir.s = "LEFT";
  GraphNode bs = node("BitShift");
  bs.attrs.set("direction", dir);
  const Value u = ints(ValueType::u8, {3}, {1, 255, 3}), sh = ints(ValueType::u8, {3}, {1, 1, 8});
  CHECK(run(build(bs), {&u, &sh}).ints == std::vector<std::int64_t>{2, 254, 0});
  const Value i32 = ints(ValueType::i32, {1}, {1});
  CHECK_THROWS_AS(run(build(bs), {&i32, &i32}), UnsupportedError);
}

TEST_CASE("math ops: Where broadcasts all three inputs", "[onnx][math]") {
  // np.where([[True], [False]], np.float32([1, 2, 3]), np.float32(-1))
  const Value c = ints(ValueType::boolean, {2, 1}, {1, 0});
  const Value x = floats({3}, {1.0f, 2.0f, 3.0f});
  const Value y = floats({}, {-1.0f});
  const Value r = run(build(node("Where")), {&c, &x, &y});
  CHECK(r.shape == std::vector<std::size_t>{2, 3});
  check_floats(r, {1.0f, 2.0f, 3.0f, -1.0f, -1.0f, -1.0f});
}

TEST_CASE("math ops: huge requests are ShapeErrors, not allocations", "[onnx][math][bad]") {
  const Value big = i64({std::int64_t{1} << 20, std::int64_t{1} << 20, std::int64_t{1} << 20});
  CHECK_THROWS_AS(run(build(node("ConstantOfShape")), {&big}), ShapeError);
  const Value one = floats({1}, {1.0f});
  CHECK_THROWS_AS(run(build(node("Expand")), {&one, &big}), ShapeError);
  const Value x = floats({2, 3}, {1, 2, 3, 4, 5, 6});
  const Value huge_reps = i64({std::int64_t{1} << 62, 3});
  CHECK_THROWS_AS(run(build(node("Tile")), {&x, &huge_reps}), ShapeError);
  const Value many_reps = i64({std::int64_t{1} << 20, std::int64_t{1} << 20});
  CHECK_THROWS_AS(run(build(node("Tile")), {&x, &many_reps}), ShapeError);
  const Value s = scalar_i64(std::numeric_limits<std::int64_t>::min());
  const Value l = scalar_i64(std::numeric_limits<std::int64_t>::max());
  const Value d = scalar_i64(1);
  CHECK_THROWS_AS(run(build(node("Range")), {&s, &l, &d}), ShapeError);
  const Value fs = floats({}, {0.0f}), fl = floats({}, {1e10f}), fd = floats({}, {1e-10f});
  CHECK_THROWS_AS(run(build(node("Range")), {&fs, &fl, &fd}), ShapeError);
}

TEST_CASE("math ops: wrong types, shapes and values are refused", "[onnx][math][bad]") {
  const Value f = floats({2}, {1.0f, 0.0f});
  const Value b = ints(ValueType::boolean, {2}, {1, 0});
  const Value i = i64({1, 0});
  // Where's condition and the logic ops need bool; mixed types are refused.
  CHECK_THROWS_AS(run(build(node("Where")), {&f, &f, &f}), ArgumentError);
  CHECK_THROWS_AS(run(build(node("Where")), {&b, &f, &i}), ArgumentError);
  CHECK_THROWS_AS(run(build(node("And")), {&f, &f}), ArgumentError);
  CHECK_THROWS_AS(run(build(node("Not")), {&i}), ArgumentError);
  CHECK_THROWS_AS(run(build(node("Equal")), {&f, &i}), ArgumentError);
  CHECK_THROWS_AS(run(build(node("Less")), {&b, &b}), ArgumentError);
  CHECK_THROWS_AS(run(build(node("Sum")), {&i, &i}), ArgumentError);
  CHECK_THROWS_AS(run(build(node("Max")), {&f, &i}), ArgumentError);
  CHECK_THROWS_AS(run(build(node("Sin")), {&i}), ArgumentError);
  CHECK_THROWS_AS(run(build(node("Where")), {&b, &f}), ArgumentError);  // missing input
  // Negative sizes, zero steps, division by zero.
  const Value neg = i64({2, -1});
  CHECK_THROWS_AS(run(build(node("ConstantOfShape")), {&neg}), ArgumentError);
  CHECK_THROWS_AS(run(build(node("Expand")), {&f, &neg}), ArgumentError);
  const Value z = scalar_i64(0), one = scalar_i64(1);
  CHECK_THROWS_AS(run(build(node("Range")), {&z, &one, &z}), ArgumentError);
  const Value zeros = i64({0, 0});
  CHECK_THROWS_AS(run(build(node("Mod")), {&i, &zeros}), ArgumentError);
  CHECK_THROWS_AS(run(build(node("Mod")), {&f, &f}), ArgumentError);  // float needs fmod = 1
  // Shapes that do not fit.
  const Value pair = floats({2}, {0.0f, 1.0f});
  CHECK_THROWS_AS(run(build(node("Clip")), {&f, &pair}), ShapeError);
  CHECK_THROWS_AS(run(build(node("Trilu")), {&f}), ShapeError);
  const Value three = floats({3}, {1, 2, 3});
  CHECK_THROWS_AS(run(build(node("PRelu")), {&f, &three}), ShapeError);
  CHECK_THROWS_AS(run(build(node("Min")), {&f, &three}), ShapeError);
  const Value reps = i64({1, 2});
  CHECK_THROWS_AS(run(build(node("Tile")), {&f, &reps}), ShapeError);
  const Value axis = scalar_i64(3);
  CHECK_THROWS_AS(run(build(node("CumSum")), {&f, &axis}), ArgumentError);
  // Ops of other families are not answered here.
  CHECK_FALSE(pare::graph::make_math_op(node("Conv"), 18));
  // Integer inputs whose dtypes pare does not load never reach the ops; a cast to them is refused.
  GraphNode cast = node("Cast");
  set_int(cast, "to", 10);  // float16
  CHECK_THROWS_AS(pare::graph::make_math_op(cast, 18), UnsupportedError);
}
