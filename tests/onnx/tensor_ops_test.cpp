// SPDX-License-Identifier: Apache-2.0
// The tensor family of graph ops (nn/graph/tensor_ops.hpp) beyond ONNX's node tests: the forms
// onnx 1.12 has no case for (opset 18 inputs, GroupNormalization, Einsum), and hostile inputs,
// which must end in an error, never in a read out of bounds.
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "pare/core/error.hpp"
#include "pare/nn/graph/tensor_ops.hpp"

using pare::graph::Attribute;
using pare::graph::GraphNode;
using pare::graph::Value;
using pare::graph::ValueType;

namespace {

// Made by tests/data/onnx/tensor_ops_reference.py (torch.nn.functional.group_norm, numpy.einsum).
const std::vector<float> gn_x = {
    0.00123015337f, 0.298745543f,  -0.274137855f,  -0.89059186f,  -0.454670787f,  -0.991646528f,
    0.0601436011f,  1.34021521f,   -0.492206514f,  -0.620474875f, 0.489842057f,   0.356887013f,
    0.105414249f,   -0.930468023f, -0.0292518232f, 0.695303202f,  -1.34421456f,   -0.457615763f,
    -1.90122271f,   -1.28953779f,  -1.84173501f,   -0.235091135f, -1.26744652f,   0.271264344f,
    0.156751081f,   -0.18693094f,  -2.51675963f,   -0.538692892f, -0.0485009439f, 0.113308989f,
    -1.53013575f,   -0.477753282f, -0.978519082f,  -0.808837235f, 1.06089866f,    -0.807534695f,
    -0.0325217061f, 0.884389877f,  -0.583600461f,  -0.11170195f,  0.110464141f,   0.0637817755f,
    -1.22505581f,   0.0761402324f, 1.35882342f,    -1.54714465f,  0.859382689f,   0.119354025f,
    -0.641470373f,  2.00041652f,   0.762259722f,   -1.19928885f,  0.0745162293f,  0.576689601f,
    -0.188782126f,  0.682910264f,  -0.0665173233f, 0.667247534f,  1.43852258f,    -0.675662279f,
    0.203138605f,   -0.463307589f, 0.127268419f,   -1.18719459f,  -0.579301596f,  -0.196195975f,
    0.898763895f,   1.14522195f,   -1.32352781f,   -0.794642389f, 0.646903396f,   -1.99241984f};
const std::vector<float> gn_y = {
    0.178274319f,  0.412828207f,  -0.0388191268f, -0.524816453f, -0.181146905f, -0.604485512f,
    0.22472024f,   1.23389757f,   -0.210739151f,  -0.311862797f, 0.563484073f,  0.45866552f,
    -1.19979966f,  0.371842712f,  -0.995484114f,  -2.09478021f,  0.999579728f,  -0.345569581f,
    1.84467351f,   0.91662401f,   1.75441861f,    -0.683184326f, 0.883107126f,  -1.45142782f,
    1.31880975f,   0.528131008f,  -4.83189964f,   -0.281136602f, 0.846604645f,  1.21886647f,
    -2.56206155f,  -0.140938237f, -1.29300582f,   -0.902633786f, 3.39890218f,   -0.899637163f,
    0.0810815245f, 0.655198872f,  -0.263972342f,  0.0315034054f, 0.170611054f,  0.141381234f,
    -0.665614843f, 0.149119392f,  0.952261925f,   -0.867288351f, 0.639540851f,  0.176177382f,
    1.31909966f,   -2.43872905f,  -0.677570701f,  2.11254263f,   0.300677925f,  -0.413615137f,
    0.675194383f,  -0.564703763f, 0.50128454f,    -0.542425036f, -1.63948929f,  1.36773431f,
    0.791411996f,  -0.674818754f, 0.62449199f,    -2.26742363f,  -0.930014133f, -0.0871535316f,
    2.32183886f,   2.86406469f,   -2.5673666f,    -1.40377975f,  1.76772726f,   -4.03897858f};
const std::vector<float> gn_y_2groups_eps = {
    0.266817898f,  0.719047785f,   -0.151747465f, -1.08877099f,  -0.426161438f,  -1.24237633f,
    0.356367648f,  2.30210447f,    -0.483216554f, -0.678187251f, 1.00951862f,    0.807424068f,
    0.425180018f,  -1.14938366f,   0.220484629f,  1.32182407f,   -1.77828741f,   -0.430637926f,
    -1.35065186f,  -0.655594587f,  -1.2830559f,   0.542572498f,  -0.63049227f,   1.11794388f,
    0.987822592f,  0.597296894f,   -2.05008602f,  0.197590008f,  0.754594803f,   0.938459337f,
    -0.928985894f, 0.26683566f,    -0.302184224f, -0.109374836f, 2.01520491f,    -0.107894763f,
    -0.132777408f, 0.895656466f,   -0.750882864f, -0.221588209f, 0.0275995471f,  -0.0247607082f,
    -1.4703573f,   -0.0108991144f, 1.42779446f,   -1.83162117f,  0.867607713f,   0.0375706926f,
    -0.815791368f, 2.14742327f,    0.75867182f,   -1.44145632f,  -0.0127206417f, 0.550531149f,
    -0.108526178f, 0.869826138f,   0.0286989007f, 0.85224694f,   1.71789503f,    -0.654980838f,
    0.33134982f,   -0.416642457f,  0.246196181f,  -1.22910392f,  -0.546829462f,  -0.11684718f,
    1.11209154f,   1.38870621f,    -1.38211894f,  -0.788519323f, 0.829413474f,   -2.13285637f};
const std::vector<float> es_q = {-3.0f, 1.0f, 0.0f,  -3.0f, 2.0f,  2.0f,  0.0f,  3.0f,
                                 1.0f,  3.0f, 3.0f,  0.0f,  -2.0f, -2.0f, 0.0f,  -2.0f,
                                 2.0f,  3.0f, -2.0f, 0.0f,  -3.0f, -2.0f, -1.0f, 3.0f};
const std::vector<float> es_k = {3.0f,  1.0f,  1.0f, 0.0f,  -3.0f, -1.0f, 3.0f, -1.0f,
                                 -2.0f, -2.0f, 1.0f, -3.0f, 3.0f,  3.0f,  0.0f, 0.0f};
const std::vector<float> es_qk = {-8.0f, 11.0f,  8.0f,   -11.0f, 9.0f, 3.0f,
                                  14.0f, -12.0f, -12.0f, 15.0f,  0.0f, -15.0f};
const std::vector<float> es_a = {2.0f,  0.0f,  0.0f, -1.0f, 0.0f, 2.0f,
                                 -3.0f, -3.0f, 2.0f, -1.0f, 2.0f, -3.0f};
const std::vector<float> es_b = {3.0f,  -3.0f, -1.0f, 3.0f, -3.0f, 1.0f,  2.0f,  -1.0f,
                                 -3.0f, 0.0f,  0.0f,  3.0f, 1.0f,  -1.0f, -3.0f, 1.0f};
const std::vector<float> es_ab_broadcast = {4.0f,  -5.0f, 1.0f, 6.0f, -5.0f, -4.0f,
                                            -3.0f, -1.0f, 6.0f, 6.0f, 5.0f,  -8.0f};
const std::vector<float> es_ab_implicit = {4.0f,  -5.0f, 1.0f, 6.0f, -5.0f, -4.0f,
                                           -3.0f, -1.0f, 6.0f, 6.0f, 5.0f,  -8.0f};
const std::vector<float> es_at = {2.0f, 0.0f,  2.0f, 0.0f,  2.0f,  -1.0f,
                                  0.0f, -3.0f, 2.0f, -1.0f, -3.0f, -3.0f};
const std::vector<float> es_sq = {-2.0f, 1.0f, 3.0f, -1.0f, 3.0f, 0.0f, 0.0f, 2.0f, 2.0f};
const std::vector<float> es_diag = {-2.0f, 3.0f, 2.0f};
const std::vector<float> es_trace = {3.0f};

Value floats(std::vector<std::size_t> shape, std::vector<float> data) {
  Value v;
  v.shape = std::move(shape);
  v.floats = std::move(data);
  return v;
}

Value ints(std::vector<std::size_t> shape, std::vector<std::int64_t> data,
           ValueType t = ValueType::i64) {
  Value v;
  v.type = t;
  v.shape = std::move(shape);
  v.ints = std::move(data);
  return v;
}

Value iota(std::vector<std::size_t> shape) {
  Value v;
  v.shape = shape;
  std::size_t n = 1;
  for (auto d : shape) n *= d;
  for (std::size_t i = 0; i < n; ++i) v.floats.push_back(static_cast<float>(i));
  return v;
}

struct Node {
  GraphNode g;
  Node(std::string op, std::size_t inputs, std::size_t outputs = 1) {
    g.op_type = std::move(op);
    g.name = "n";
    g.attrs = pare::graph::Attributes("n");
    for (std::size_t i = 0; i < inputs; ++i) g.inputs.push_back("i" + std::to_string(i));
    for (std::size_t i = 0; i < outputs; ++i) g.outputs.push_back("o" + std::to_string(i));
  }
  Node& i(const std::string& n, std::int64_t v) {
    Attribute a;
    a.kind = Attribute::Kind::int64;
    a.i = v;
    g.attrs.set(n, a);
    return *this;
  }
  Node& f(const std::string& n, float v) {
    Attribute a;
    a.kind = Attribute::Kind::float32;
    a.f = v;
    g.attrs.set(n, a);
    return *this;
  }
  Node& s(const std::string& n, std::string v) {
    Attribute a;
    a.kind = Attribute::Kind::string;
    a.s = std::move(v);
    g.attrs.set(n, a);
    return *this;
  }
  Node& is(const std::string& n, std::vector<std::int64_t> v) {
    Attribute a;
    a.kind = Attribute::Kind::ints;
    a.ints = std::move(v);
    g.attrs.set(n, a);
    return *this;
  }
  /// Builds the op at `opset` and runs it; nullptr inputs are omitted optional inputs.
  std::vector<Value> run(std::vector<const Value*> in, std::int64_t opset = 18) const {
    const pare::graph::OpFn fn = pare::graph::make_tensor_op(g, opset);
    REQUIRE(fn);
    std::vector<Value> out(g.outputs.size());
    std::vector<Value*> po;
    for (auto& v : out) po.push_back(&v);
    fn(in, po);
    return out;
  }
};

void check_close(const Value& got, const std::vector<float>& want, float tol = 1e-5f) {
  REQUIRE(got.is_float());
  REQUIRE(got.floats.size() == want.size());
  for (std::size_t k = 0; k < want.size(); ++k) {
    INFO("element " << k);
    CHECK(std::fabs(got.floats[k] - want[k]) <= tol * (1.0f + std::fabs(want[k])));
  }
}

}  // namespace

TEST_CASE("GroupNormalization matches torch's group_norm", "[onnx][tensor_ops]") {
  const Value x = floats({2, 6, 3, 2}, gn_x);
  SECTION("opset 18: scale and bias per group") {
    const Value sc = floats({3}, {0.5f, -1.25f, 2.0f}), b = floats({3}, {0.1f, 0.0f, -0.3f});
    const auto y = Node("GroupNormalization", 3).i("num_groups", 3).run({&x, &sc, &b});
    CHECK(y[0].shape == x.shape);
    check_close(y[0], gn_y);
  }
  SECTION("identity affine, another epsilon") {
    const Value sc = floats({2}, {1.0f, 1.0f}), b = floats({2}, {0.0f, 0.0f});
    const auto y =
        Node("GroupNormalization", 3).i("num_groups", 2).f("epsilon", 1e-3f).run({&x, &sc, &b});
    check_close(y[0], gn_y_2groups_eps);
  }
  SECTION("groups that do not divide the channels, or a scale of the wrong size, are refused") {
    const Value sc = floats({4}, {1, 1, 1, 1}), b = floats({4}, {0, 0, 0, 0});
    CHECK_THROWS_AS(Node("GroupNormalization", 3).i("num_groups", 4).run({&x, &sc, &b}),
                    pare::ShapeError);
    CHECK_THROWS_AS(Node("GroupNormalization", 3).i("num_groups", 3).run({&x, &sc, &b}),
                    pare::ShapeError);
  }
}

TEST_CASE("Einsum matches numpy.einsum", "[onnx][tensor_ops]") {
  const Value q = floats({1, 2, 3, 4}, es_q), k = floats({1, 2, 2, 4}, es_k);
  const Value a = floats({3, 4}, es_a), b = floats({2, 4, 2}, es_b), sq = floats({3, 3}, es_sq);
  auto einsum = [](const std::string& eq, std::vector<const Value*> in) {
    return Node("Einsum", in.size()).s("equation", eq).run(in, 12)[0];
  };
  Value y = einsum("bhqd,bhkd->bhqk", {&q, &k});
  CHECK(y.shape == std::vector<std::size_t>{1, 2, 3, 2});
  check_close(y, es_qk);
  y = einsum("...ij,...jk->...ik", {&a, &b});
  CHECK(y.shape == std::vector<std::size_t>{2, 3, 2});
  check_close(y, es_ab_broadcast);
  y = einsum("ij,bjk", {&a, &b});  // implicit output: the labels seen once, alphabetically
  CHECK(y.shape == std::vector<std::size_t>{2, 3, 2});
  check_close(y, es_ab_implicit);
  y = einsum("ij->ji", {&a});
  CHECK(y.shape == std::vector<std::size_t>{4, 3});
  check_close(y, es_at);
  // a dimension of 1 broadcasts against a named label, as in numpy.einsum
  const Value row = floats({1, 4}, {es_a[0], es_a[1], es_a[2], es_a[3]});
  check_close(einsum("bq,bq->b", {&a, &row}), {5, 3, 7});
  check_close(einsum("ii->i", {&sq}), es_diag);
  y = einsum("ii", {&sq});
  CHECK(y.shape.empty());
  check_close(y, es_trace);
  CHECK_THROWS_AS(einsum("ij,jk->ik", {&a, &a}), pare::ShapeError);  // 4 != 3
  CHECK_THROWS_AS(einsum("ij->iz", {&a}), pare::ArgumentError);
  CHECK_THROWS_AS(einsum("i.j->ij", {&a}), pare::ArgumentError);
  const Value n = ints({2}, {1, 2});
  CHECK_THROWS_AS(einsum("i->i", {&n}), pare::UnsupportedError);
}

TEST_CASE("opset 18 forms: Split num_outputs, Reduce axes input, Pad axes input",
          "[onnx][tensor_ops]") {
  const Value x = iota({7});
  const auto parts = Node("Split", 1, 3).i("num_outputs", 3).run({&x});
  REQUIRE(parts.size() == 3);
  CHECK(parts[0].floats == std::vector<float>{0, 1, 2});
  CHECK(parts[1].floats == std::vector<float>{3, 4, 5});
  CHECK(parts[2].floats == std::vector<float>{6});
  CHECK_THROWS_AS(Node("Split", 1, 2).i("num_outputs", 3).run({&x}), pare::ArgumentError);

  const Value m = iota({2, 3});
  const Value ax = ints({1}, {-1}), none = ints({0}, {});
  Value y = Node("ReduceMean", 2).i("keepdims", 0).run({&m, &ax})[0];
  CHECK(y.shape == std::vector<std::size_t>{2});
  CHECK(y.floats == std::vector<float>{1, 4});
  y = Node("ReduceMax", 2).run({&m, &none})[0];  // empty axes: all of them
  CHECK(y.shape == std::vector<std::size_t>{1, 1});
  CHECK(y.floats == std::vector<float>{5});
  y = Node("ReduceSum", 2).i("noop_with_empty_axes", 1).run({&m, &none})[0];
  CHECK(y.floats == m.floats);
  y = Node("ReduceLogSumExp", 2).i("keepdims", 0).run({&m, &ax})[0];
  CHECK(y.floats[1] == Approx(5.0 + std::log(1.0 + std::exp(-1.0) + std::exp(-2.0))));
  // opset 13 ReduceMean takes its axes from the attribute
  y = Node("ReduceMean", 1).is("axes", {0}).i("keepdims", 0).run({&m}, 13)[0];
  CHECK(y.floats == std::vector<float>{1.5f, 2.5f, 3.5f});
  const Value repeated = ints({2}, {1, -1});
  CHECK_THROWS_AS(Node("ReduceSum", 2).run({&m, &repeated}), pare::ArgumentError);
  const Value i8 = ints({3}, {100, 100, 100}, ValueType::i8);
  y = Node("ReduceSum", 1).i("keepdims", 0).run({&i8})[0];
  CHECK(y.type == ValueType::i8);
  CHECK(y.ints == std::vector<std::int64_t>{44});  // 300 wraps as int8 arithmetic does
  CHECK_THROWS_AS(Node("ReduceMean", 1).run({&i8}), pare::UnsupportedError);

  const Value pads = ints({2}, {1, 2}), axis1 = ints({1}, {1}), c = floats({}, {9});
  y = Node("Pad", 4).run({&m, &pads, &c, &axis1})[0];
  CHECK(y.shape == std::vector<std::size_t>{2, 6});
  CHECK(y.floats == std::vector<float>{9, 0, 1, 2, 9, 9, 9, 3, 4, 5, 9, 9});
  y = Node("Pad", 4).s("mode", "reflect").run({&m, &pads, nullptr, &axis1})[0];
  CHECK(y.floats == std::vector<float>{1, 0, 1, 2, 1, 0, 4, 3, 4, 5, 4, 3});
  const Value crop = ints({4}, {0, -1, 0, 0});
  y = Node("Pad", 2).run({&m, &crop})[0];  // negative pads crop
  CHECK(y.floats == std::vector<float>{1, 2, 4, 5});
}

TEST_CASE("older forms and tie rules", "[onnx][tensor_ops]") {
  const Value m = iota({3, 4});
  Value y = Node("Slice", 1)
                .is("starts", {-1, 1})
                .is("ends", {-4, 100})
                .is("axes", {0, 1})
                .run({&m}, 9)[0];  // opset 9: attributes; starts -1 with step 1 is empty
  CHECK(y.shape == std::vector<std::size_t>{0, 3});
  const Value st = ints({1}, {-1}), en = ints({1}, {std::numeric_limits<std::int64_t>::min()}),
              ax = ints({1}, {1}), step = ints({1}, {-2});
  y = Node("Slice", 5).run({&m, &st, &en, &ax, &step})[0];
  CHECK(y.shape == std::vector<std::size_t>{3, 2});
  CHECK(y.floats == std::vector<float>{3, 1, 7, 5, 11, 9});
  const Value big = ints({1}, {std::numeric_limits<std::int64_t>::max()}),
              minstep = ints({1}, {std::numeric_limits<std::int64_t>::min()});
  y = Node("Slice", 5).run({&m, &big, &en, &ax, &minstep})[0];
  CHECK(y.floats == std::vector<float>{3, 7, 11});
  const Value zero = ints({1}, {0});
  CHECK_THROWS_AS(Node("Slice", 5).run({&m, &st, &en, &ax, &zero}), pare::ArgumentError);

  const Value parts = ints({2}, {1, 3});
  const auto s = Node("Split", 1, 2).i("axis", 1).is("split", {1, 3}).run({&m}, 11);
  CHECK(s[1].shape == std::vector<std::size_t>{3, 3});
  const auto s2 = Node("Split", 2, 2).i("axis", 1).run({&m, &parts}, 13);
  CHECK(s2[0].floats == std::vector<float>{0, 4, 8});
  const Value bad = ints({2}, {2, 3});
  CHECK_THROWS_AS(Node("Split", 2, 2).i("axis", 1).run({&m, &bad}), pare::ShapeError);

  const Value t = floats({6}, {1, 3, 3, 2, 3, 1});
  const Value k3 = ints({1}, {3});
  auto r = Node("TopK", 2, 2).run({&t, &k3}, 11);
  CHECK(r[0].floats == std::vector<float>{3, 3, 3});
  CHECK(r[1].ints == std::vector<std::int64_t>{1, 2, 4});  // equal values: lower index first
  r = Node("TopK", 2, 2).i("largest", 0).run({&t, &k3}, 11);
  CHECK(r[1].ints == std::vector<std::int64_t>{0, 5, 3});
  r = Node("TopK", 1, 2).i("k", 2).run({&t}, 9);
  CHECK(r[1].ints == std::vector<std::int64_t>{1, 2});
  const Value k7 = ints({1}, {7});
  CHECK_THROWS_AS(Node("TopK", 2, 2).run({&t, &k7}), pare::ShapeError);

  // NaN orders above every number (torch.topk, numpy.argmax/argmin)
  const Value with_nan = floats({4}, {1, std::nanf(""), 3, std::nanf("")});
  const Value k2 = ints({1}, {2});
  r = Node("TopK", 2, 2).run({&with_nan, &k2}, 11);
  CHECK(r[1].ints == std::vector<std::int64_t>{1, 3});
  r = Node("TopK", 2, 2).i("largest", 0).run({&with_nan, &k2}, 11);
  CHECK(r[1].ints == std::vector<std::int64_t>{0, 2});
  CHECK(Node("ArgMax", 1).run({&with_nan})[0].ints == std::vector<std::int64_t>{1});
  CHECK(Node("ArgMin", 1).run({&with_nan})[0].ints == std::vector<std::int64_t>{1});
  CHECK(Node("ArgMin", 1).i("select_last_index", 1).run({&with_nan})[0].ints ==
        std::vector<std::int64_t>{3});
  // int64 values that one double cannot tell apart
  const std::int64_t huge = (std::int64_t{1} << 60) + 1;
  const Value close = ints({3}, {huge - 1, huge + 1, huge});
  CHECK(Node("ArgMax", 1).run({&close})[0].ints == std::vector<std::int64_t>{1});
  CHECK(Node("TopK", 2, 2).run({&close, &k2}, 11)[1].ints == std::vector<std::int64_t>{1, 2});
  y = Node("ArgMax", 1).i("select_last_index", 1).run({&t})[0];
  CHECK(y.ints == std::vector<std::int64_t>{4});
  y = Node("ArgMin", 1).i("keepdims", 0).run({&t})[0];
  CHECK(y.shape.empty());
  CHECK(y.ints == std::vector<std::int64_t>{0});
}

TEST_CASE("hostile indices and sizes end in errors", "[onnx][tensor_ops][bad]") {
  const Value m = iota({2, 3});
  SECTION("indices out of range") {
    const Value idx = ints({1, 1}, {3}), neg = ints({1, 1}, {-4}), ok = ints({1, 1}, {-1});
    CHECK_THROWS_AS(Node("GatherElements", 2).i("axis", 1).run({&m, &idx}), pare::ShapeError);
    CHECK_THROWS_AS(Node("GatherElements", 2).i("axis", 1).run({&m, &neg}), pare::ShapeError);
    CHECK(Node("GatherElements", 2).i("axis", 1).run({&m, &ok})[0].floats == std::vector<float>{2});
    const Value wide = ints({3, 1}, {0, 0, 0});  // more rows than the data has
    CHECK_THROWS_AS(Node("GatherElements", 2).i("axis", 1).run({&m, &wide}), pare::ShapeError);
    const Value upd = floats({1, 1}, {7});
    CHECK_THROWS_AS(Node("ScatterElements", 3).i("axis", 1).run({&m, &idx, &upd}),
                    pare::ShapeError);
    const Value nd = ints({1, 2}, {1, 3}), nd_neg = ints({1, 2}, {-3, 0});
    CHECK_THROWS_AS(Node("GatherND", 2).run({&m, &nd}), pare::ShapeError);
    CHECK_THROWS_AS(Node("GatherND", 2).run({&m, &nd_neg}), pare::ShapeError);
    const Value nd_upd = floats({1}, {7});
    CHECK_THROWS_AS(Node("ScatterND", 3).run({&m, &nd, &nd_upd}), pare::ShapeError);
    const Value too_long = ints({1, 3}, {0, 0, 0});
    CHECK_THROWS_AS(Node("GatherND", 2).run({&m, &too_long}), pare::ShapeError);
    const Value fidx = floats({1, 1}, {0});
    CHECK_THROWS_AS(Node("GatherElements", 2).run({&m, &fidx}), pare::ArgumentError);
  }
  SECTION("huge pads") {
    const Value huge = ints({4}, {0, std::int64_t{1} << 40, 0, 0});
    CHECK_THROWS_AS(Node("Pad", 2).run({&m, &huge}), pare::ShapeError);
    const Value max = ints({4}, {std::numeric_limits<std::int64_t>::max(), 0, 0,
                                 std::numeric_limits<std::int64_t>::max()});
    CHECK_THROWS_AS(Node("Pad", 2).run({&m, &max}), pare::ShapeError);
    const Value wide = ints({4}, {std::int64_t{1} << 20, std::int64_t{1} << 20,
                                  std::int64_t{1} << 20, std::int64_t{1} << 20});
    CHECK_THROWS_AS(Node("Pad", 2).run({&m, &wide}), pare::ShapeError);  // 2^21 x 2^21
    const Value below = ints({4}, {-3, 0, 0, 0});
    CHECK_THROWS_AS(Node("Pad", 2).run({&m, &below}), pare::ShapeError);
    const Value odd = ints({3}, {0, 0, 0});
    CHECK_THROWS_AS(Node("Pad", 2).run({&m, &odd}), pare::ShapeError);
    const Value empty = floats({0, 2}, {}), edge = ints({4}, {1, 0, 1, 0});
    CHECK_THROWS_AS(Node("Pad", 2).s("mode", "edge").run({&empty, &edge}), pare::ShapeError);
    CHECK_THROWS_AS(Node("Pad", 2).s("mode", "wrap").run({&m, &edge}), pare::UnsupportedError);
  }
  SECTION("block sizes and reshapes that do not fit") {
    const Value x = iota({1, 4, 2, 2});
    CHECK_THROWS_AS(Node("DepthToSpace", 1).i("blocksize", std::int64_t{1} << 40).run({&x}),
                    pare::ArgumentError);
    CHECK_THROWS_AS(Node("DepthToSpace", 1).i("blocksize", 3).run({&x}), pare::ShapeError);
    CHECK_THROWS_AS(Node("SpaceToDepth", 1).i("blocksize", 3).run({&x}), pare::ShapeError);
    CHECK_THROWS_AS(Node("DepthToSpace", 1).i("blocksize", 2).run({&m}), pare::ShapeError);
    const Value sc2 = floats({2}, {1, 1});
    CHECK_THROWS_AS(Node("LayerNormalization", 2).run({&m, &sc2}), pare::ShapeError);
    CHECK_THROWS_AS(Node("ArgMax", 1).i("axis", 2).run({&m}), pare::ArgumentError);
    const Value no_rows = floats({0, 3}, {});
    CHECK_THROWS_AS(Node("ArgMax", 1).run({&no_rows}), pare::ShapeError);
  }
}
