// SPDX-License-Identifier: Apache-2.0
// Hostile ONNX bytes: every malformed file must give a pare::Error naming the problem — never a
// crash, an out-of-bounds read or an allocation the file cannot justify.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "onnx/onnx_test_util.hpp"
#include "onnx/protobuf_writer.hpp"
#include "pare/io/detail/protobuf.hpp"
#include "pare/io/load_model.hpp"
#include "pare/io/mapped_file.hpp"

using pare::FormatError;
using pare::UnsupportedError;
using pare::io::parse_onnx;
using pare::test::model;
using pare::test::node;
using pare::test::Pb;
using pare::test::value_info;

namespace {

pare::io::OnnxModel parse(const Pb& p) { return parse_onnx(p.vec(), "t.onnx"); }

pare::Model build(const Pb& p) { return pare::Model(pare::io::to_graph(parse(p), "t.onnx")); }

std::vector<std::byte> read_file(const std::string& path) {
  const auto f = pare::io::MappedFile::open(path);
  return {f.bytes().begin(), f.bytes().end()};
}

/// Parses, builds and runs `bytes` on zeros of the declared input shapes; true when all of it
/// succeeded, false on a pare::Error. Any other exception fails the test.
bool parse_build_run(std::span<const std::byte> bytes) {
  try {
    const auto m = parse_onnx(bytes, "t.onnx");
    const pare::Model model(pare::io::to_graph(m, "t.onnx"));
    std::map<std::string, pare::graph::Value> in;
    for (const auto& v : m.inputs) {
      std::vector<std::size_t> shape;
      for (auto d : v.shape) shape.push_back(d < 0 || d > 64 ? 1 : static_cast<std::size_t>(d));
      in[v.name] = pare::graph::Value::zeros(shape);
    }
    (void)model.run(in);
    return true;
  } catch (const pare::Error&) {
    return false;
  }
}

}  // namespace

TEST_CASE("protobuf reader: varints, zigzag, fixed and packed fields", "[onnx][protobuf]") {
  using pare::io::detail::ProtoField;
  using pare::io::detail::ProtoReader;
  Pb p;
  p.i(1, 300).i(2, -1).f(3, 1.5f);
  p.tag(4, 2).raw_varint(4).raw_varint(1).raw_varint(128).raw_varint(5);  // packed, 4 bytes
  p.tag(5, 1).bytes += std::string("\x01\x00\x00\x00\x00\x00\x00\x80", 8);
  const auto b = p.vec();
  ProtoReader r(b, "pb", "msg");
  ProtoField f;
  REQUIRE(r.next(f));
  CHECK(f.number == 1);
  CHECK(r.as_int64(f, "a") == 300);
  REQUIRE(r.next(f));
  CHECK(r.as_int64(f, "b") == -1);
  CHECK_THROWS_AS(r.as_int32(ProtoField{.number = 1,
                                        .type = {},
                                        .offset = 0,
                                        .value = 1ull << 40,
                                        .bytes = {},
                                        .bytes_offset = 0},
                             "x"),
                  FormatError);
  REQUIRE(r.next(f));
  CHECK(r.as_float(f, "c") == 1.5f);
  CHECK_THROWS_AS(r.as_int64(f, "c"), FormatError);  // wrong wire type
  REQUIRE(r.next(f));
  std::vector<std::int64_t> v;
  r.append_varints(f, v, "d");
  CHECK(v == std::vector<std::int64_t>{1, 128, 5});
  REQUIRE(r.next(f));
  CHECK(f.type == pare::io::detail::WireType::fixed64);
  CHECK(f.value == 0x8000000000000001ull);
  CHECK_FALSE(r.next(f));
  CHECK(ProtoReader::zigzag(0) == 0);
  CHECK(ProtoReader::zigzag(1) == -1);
  CHECK(ProtoReader::zigzag(2) == 1);
  CHECK(ProtoReader::zigzag(0xFFFFFFFFFFFFFFFFull) == INT64_MIN);
  std::vector<float> fl;
  const auto packed = Pb{}.s(1, std::string("\x00\x00\x80\x3f\x00\x00", 6)).vec();
  ProtoReader q(packed, "pb", "msg");
  REQUIRE(q.next(f));
  CHECK_THROWS_AS(q.append_fixed(f, fl, "floats"), FormatError);  // 6 bytes: not a multiple of 4
  CHECK_THROWS_AS(ProtoReader({}, "pb", "deep", 0, ProtoReader::max_depth + 1), FormatError);
}

TEST_CASE("protobuf reader: bad varints, wire types and lengths", "[onnx][protobuf][bad]") {
  auto fails = [](std::string bytes, const char* what) {
    INFO(what);
    Pb p;
    p.bytes = std::move(bytes);
    CHECK_THROWS_AS(parse(p), FormatError);
  };
  fails(std::string("\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 11), "11-byte varint");
  fails(std::string("\x08\xff\xff\xff\xff\xff\xff\xff\xff\x02", 10), "varint over 64 bits");
  fails(std::string("\x08\x80", 2), "truncated varint");
  fails(std::string("\x08\x08\x3a\xff\xff\xff\xff\xff\xff\xff\xff\x7f", 12), "huge length");
  fails(std::string("\x08\x08\x3a\x05\x00", 5), "length past the end");
  fails(std::string("\x08\x08\x3b", 3), "start group");
  fails(std::string("\x08\x08\x3e", 3), "wire type 6");
  fails(std::string("\x00\x01", 2), "field number 0");
  fails(std::string("\x0d\x08\x00\x00\x00", 5), "ir_version as fixed32");
  fails(std::string("\x08\x08\x39\x00\x00\x00\x00\x00\x00\x00", 10), "fixed64 cut short");
  // a node whose op_type is a varint
  Pb bad_node;
  bad_node.s(1, "X").s(2, "Y").i(4, 7);
  CHECK_THROWS_AS(parse(model(Pb{}.m(1, bad_node))), FormatError);
  // the message names the file, the field and the offset (after the length varint)
  try {
    Pb p;
    p.bytes = std::string("\x08\x08\x3a\x05\x00", 5);
    (void)parse(p);
    FAIL("expected FormatError");
  } catch (const FormatError& e) {
    CHECK(e.file() == "t.onnx");
    CHECK(e.field() == "ModelProto.#7");
    CHECK(e.offset() == 4);
  }
}

TEST_CASE("a minimal hand-built model runs", "[onnx][bad]") {
  const pare::Model m = build(model(pare::test::relu_graph()));
  pare::graph::Value x;
  x.shape = {2};
  x.floats = {-1.0f, 2.0f};
  CHECK(m.run(x).floats == std::vector<float>{0.0f, 2.0f});
  CHECK_THROWS_AS(parse(Pb{}.i(1, 8)), FormatError);                         // no graph
  CHECK_THROWS_AS(parse(Pb{}.m(7, pare::test::relu_graph())), FormatError);  // no ir_version
}

TEST_CASE("bad initializers", "[onnx][bad]") {
  auto with_init = [](const Pb& t) {
    return model(Pb{}.m(1, node("Add", {"X", "W"}, {"Y"}))
                     .m(5, t)
                     .m(11, value_info("X", {2}))
                     .m(12, value_info("Y", {2})));
  };
  auto tensor = [](std::int64_t type, std::vector<std::int64_t> dims, std::string raw) {
    Pb t;
    for (auto d : dims) t.i(1, d);
    return t.i(2, type).s(8, "W").s(9, raw);
  };
  CHECK_NOTHROW(build(with_init(tensor(1, {2}, std::string(8, '\0')))));
  CHECK_THROWS_AS(parse(with_init(tensor(99, {2}, std::string(8, '\0')))), FormatError);
  CHECK_THROWS_AS(parse(with_init(tensor(-1, {2}, std::string(8, '\0')))), FormatError);
  CHECK_THROWS_AS(parse(with_init(tensor(8, {2}, "ab"))), UnsupportedError);  // STRING
  CHECK_THROWS_AS(parse(with_init(tensor(14, {2}, std::string(16, '\0')))), UnsupportedError);
  // pare runs float32 graphs: a double weight is refused, not rounded; float16 widens exactly
  CHECK_THROWS_AS(build(with_init(tensor(11, {2}, std::string(16, '\0')))), UnsupportedError);
  CHECK_NOTHROW(build(with_init(tensor(10, {2}, std::string(4, '\0')))));
  // and so is an interface declared in another float type, naming every such value
  try {
    (void)build(model(Pb{}.m(1, node("Relu", {"X"}, {"Y"}))
                          .m(11, value_info("X", {2}, 11))
                          .m(12, value_info("Y", {2}, 10))));
    FAIL("expected UnsupportedError");
  } catch (const UnsupportedError& e) {
    CHECK_THAT(e.what(), Catch::Contains("input 'X'") && Catch::Contains("DOUBLE") &&
                             Catch::Contains("output 'Y'") && Catch::Contains("FLOAT16"));
  }
  CHECK_THROWS_AS(parse(with_init(tensor(1, {2}, std::string(7, '\0')))), FormatError);  // size
  CHECK_THROWS_AS(parse(with_init(tensor(1, {2}, std::string(12, '\0')))), FormatError);
  CHECK_THROWS_AS(parse(with_init(tensor(1, {-2}, ""))), FormatError);  // negative dim
  CHECK_THROWS_AS(parse(with_init(tensor(1, {1ll << 62, 1ll << 62}, ""))), FormatError);
  CHECK_THROWS_AS(parse(with_init(tensor(1, {1ll << 62}, ""))), FormatError);  // bytes overflow
  // typed fields: count must match, and the field must fit the type
  Pb typed;
  typed.i(1, 3).i(2, 1).s(8, "W").f(4, 1.0f).f(4, 2.0f);
  CHECK_THROWS_AS(parse(with_init(typed)), FormatError);
  typed.f(4, 3.0f);
  CHECK(parse(with_init(typed)).initializer("W").to_float() == std::vector<float>{1, 2, 3});
  Pb wrong_field;
  wrong_field.i(1, 2).i(2, 1).s(8, "W").i(7, 1).i(7, 2);  // FLOAT data in int64_data
  CHECK_THROWS_AS(parse(with_init(wrong_field)), FormatError);
  Pb ints;
  ints.i(1, 2).i(2, 3).s(8, "W").tag(5, 2).raw_varint(2).raw_varint(5).raw_varint(0x7F);
  CHECK(parse(with_init(ints)).initializer("W").to_int64() == std::vector<std::int64_t>{5, 127});
  // an initializer defined twice
  CHECK_THROWS_AS(build(model(Pb{}.m(5, pare::test::float_tensor("W", {1}, {1.0f}))
                                  .m(5, pare::test::float_tensor("W", {1}, {2.0f}))
                                  .m(12, value_info("W", {1})))),
                  FormatError);
}

TEST_CASE("undefined, duplicate and cyclic values; unsupported ops", "[onnx][bad]") {
  auto graph = [](std::vector<Pb> nodes) {
    Pb g;
    for (auto& n : nodes) g.m(1, n);
    return model(g.m(11, value_info("X", {2})).m(12, value_info("Y", {2})));
  };
  CHECK_THROWS_AS(build(graph({node("Relu", {"Z"}, {"Y"})})), FormatError);  // undefined
  CHECK_THROWS_AS(build(graph({node("Relu", {"X"}, {"Y"}, "a"), node("Relu", {"X"}, {"Y"}, "b")})),
                  FormatError);                                              // Y defined twice
  CHECK_THROWS_AS(build(graph({node("Relu", {"X"}, {"X"})})), FormatError);  // redefines input
  CHECK_THROWS_AS(build(graph({node("Add", {"X", "B"}, {"A"}, "a"), node("Relu", {"A"}, {"B"}, "b"),
                               node("Relu", {"A"}, {"Y"}, "c")})),
                  FormatError);                                              // cycle A -> B -> A
  CHECK_THROWS_AS(build(graph({node("Relu", {"X"}, {"Z"})})), FormatError);  // Y never produced
  CHECK_THROWS_AS(build(graph({node("Relu", {"X"}, {})})), FormatError);     // no outputs
  try {
    (void)build(graph({node("NoSuchOp", {"X"}, {"Y"}, "my_node")}));
    FAIL("expected UnsupportedError");
  } catch (const UnsupportedError& e) {
    CHECK_THAT(e.what(), Catch::Contains("NoSuchOp") && Catch::Contains("my_node"));
  }
  try {  // every unsupported node is named at once
    (void)build(graph({node("StringNormalizer", {"X"}, {"A"}, "x1"),
                       node("Relu", {"A"}, {"B"}, "r"), node("NotAnOnnxOp", {"B"}, {"Y"}, "h1")}));
    FAIL("expected UnsupportedError");
  } catch (const UnsupportedError& e) {
    CHECK_THAT(e.what(), Catch::Contains("2 nodes") && Catch::Contains("'StringNormalizer'") &&
                             Catch::Contains("x1") && Catch::Contains("'NotAnOnnxOp'") &&
                             Catch::Contains("h1"));
  }
  Pb custom = node("Relu", {"X"}, {"Y"}, "custom");
  custom.s(7, "com.example");
  CHECK_THROWS_AS(build(graph({custom})), UnsupportedError);
  // nodes listed out of order are sorted
  const auto m =
      build(graph({node("Relu", {"A"}, {"Y"}, "second"), node("Neg", {"X"}, {"A"}, "first")}));
  CHECK(m.graph().nodes[0].name == "first");
  // a run-time shape error names the node
  const auto bad = build(graph({node("Gemm", {"X", "X"}, {"Y"}, "gemm0")}));
  pare::graph::Value x = pare::graph::Value::zeros({2});
  CHECK_THROWS_WITH(bad.run(x), Catch::Contains("gemm0"));
  CHECK_THROWS_AS(bad.run({{"nope", x}}), pare::ArgumentError);
}

TEST_CASE("truncation at every byte and at every field boundary", "[onnx][bad]") {
  const auto bytes = read_file(pare::test::onnx_data("cnn.onnx"));
  // where the graph field sits: any cut inside it must be a FormatError
  pare::io::detail::ProtoReader r(bytes, "cnn.onnx", "ModelProto");
  pare::io::detail::ProtoField f;
  std::uint64_t graph_begin = 0, graph_end = 0;
  std::vector<std::uint64_t> boundaries;
  while (r.next(f)) {
    boundaries.push_back(f.offset);
    if (f.number == 7) {
      graph_begin = f.offset;
      graph_end = f.bytes_offset + f.bytes.size();
    }
  }
  REQUIRE(graph_end > graph_begin);
  const std::size_t step = PARE_FULL_SWEEP ? 1 : 7;
  for (std::size_t n = 0; n < bytes.size(); n += step) {
    const std::span<const std::byte> cut(bytes.data(), n);
    if (n > graph_begin && n < graph_end) {
      INFO("cut at " << n);
      CHECK_THROWS_AS(parse_onnx(cut, "cnn.onnx"), FormatError);
    } else {
      (void)parse_build_run(cut);  // may be a valid shorter model; must not crash
    }
  }
  for (auto b : boundaries) (void)parse_build_run(std::span(bytes.data(), b));
  CHECK(parse_build_run(bytes));
}

TEST_CASE("flipped bytes never crash", "[onnx][bad]") {
  for (const char* file : {"op_conv_bn.onnx", "op_dynamic_flatten.onnx", "op_qdq.onnx"}) {
    auto bytes = read_file(pare::test::onnx_data(file));
    REQUIRE(parse_build_run(bytes));
    for (std::size_t i = 0; i < bytes.size(); ++i)
      for (unsigned mask : {0x01u, 0x80u, 0xFFu}) {
        bytes[i] ^= static_cast<std::byte>(mask);
        (void)parse_build_run(bytes);
        bytes[i] ^= static_cast<std::byte>(mask);
      }
  }
}

TEST_CASE("external data must stay inside the model's folder", "[onnx][bad][external]") {
  namespace fs = std::filesystem;
  const fs::path root = fs::temp_directory_path() / ("pare_onnx_ext_" + std::to_string(::getpid()));
  fs::remove_all(root);
  fs::create_directories(root / "model");
  {
    std::ofstream(root / "secret.bin", std::ios::binary) << std::string(8, '\0');
    std::ofstream(root / "model" / "w.bin", std::ios::binary) << std::string(16, '\0');
  }
  auto write_model = [&](const std::string& location, const std::string& offset,
                         const std::string& length) {
    Pb t;
    t.i(1, 2).i(2, 1).s(8, "W").i(14, 1);
    t.m(13, Pb{}.s(1, "location").s(2, location));
    if (!offset.empty()) t.m(13, Pb{}.s(1, "offset").s(2, offset));
    if (!length.empty()) t.m(13, Pb{}.s(1, "length").s(2, length));
    const Pb m = model(Pb{}.m(1, node("Add", {"X", "W"}, {"Y"}))
                           .m(5, t)
                           .m(11, value_info("X", {2}))
                           .m(12, value_info("Y", {2})));
    std::ofstream(root / "model" / "m.onnx", std::ios::binary) << m.bytes;
    return (root / "model" / "m.onnx").string();
  };
  CHECK_NOTHROW(pare::load_model(write_model("w.bin", "8", "8")));
  CHECK_NOTHROW(pare::load_model(write_model("./w.bin", "", "")));
  CHECK_THROWS_AS(pare::load_model(write_model("../secret.bin", "", "")), FormatError);
  CHECK_THROWS_AS(pare::load_model(write_model((root / "secret.bin").string(), "", "")),
                  FormatError);
  CHECK_THROWS_AS(pare::load_model(write_model("w.bin", "12", "8")), FormatError);  // past end
  CHECK_THROWS_AS(pare::load_model(write_model("w.bin", "0", "4")), FormatError);   // length
  CHECK_THROWS_AS(pare::load_model(write_model("w.bin", "-1", "8")), FormatError);
  CHECK_THROWS_AS(pare::load_model(write_model("w.bin", "18446744073709551615", "8")), FormatError);
  CHECK_THROWS_AS(pare::load_model(write_model("", "", "")), FormatError);
  CHECK_THROWS_AS(pare::load_model(write_model("missing.bin", "", "")), pare::Error);
  fs::create_symlink(root / "secret.bin", root / "model" / "link.bin");
  CHECK_THROWS_AS(pare::load_model(write_model("link.bin", "", "")), FormatError);
  // from memory there is no folder to resolve against
  CHECK_THROWS_AS(parse_onnx(read_file(write_model("w.bin", "", "")), "mem"), FormatError);
  fs::remove_all(root);
}
