// SPDX-License-Identifier: Apache-2.0
// save_model / load_model through .pare: a model converted from ONNX runs bit-identically.
#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <string>

#include <catch2/catch.hpp>

#include "onnx/onnx_test_util.hpp"
#include "pare/io/load_model.hpp"

using pare::graph::Value;
using pare::test::npy_value;
using pare::test::onnx_data;

namespace {

std::filesystem::path temp_dir() {
  const auto d =
      std::filesystem::temp_directory_path() / ("pare_onnx_pare_" + std::to_string(::getpid()));
  std::filesystem::create_directories(d);
  return d;
}

}  // namespace

TEST_CASE("ONNX models saved as .pare load back and run bit-identically", "[onnx][pare]") {
  const auto dir = temp_dir();
  for (const char* name : {"cnn_bn", "mlp_gelu", "op_qdq", "op_matmulinteger", "op_constant",
                           "op_dynamic_flatten", "op_conv_groups", "op_softmax_1"}) {
    INFO(name);
    const pare::Model m = pare::load_model(onnx_data(std::string(name) + ".onnx"));
    const auto out = dir / (std::string(name) + ".pare");
    pare::save_model(m, out, {{"source", name}});
    CHECK(pare::io::detect_format(out) == pare::io::FileFormat::pare);
    const pare::Model back = pare::load_model(out);
    CHECK(back.graph().nodes.size() == m.graph().nodes.size());
    // The declared input shapes travel with the graph (callers reshape flat samples by them).
    CHECK(back.graph().input_shapes == m.graph().input_shapes);
    if (std::string(name) == "cnn_bn") {
      REQUIRE(m.graph().input_shapes.size() == 1);
      const auto& dims = m.graph().input_shapes[0];
      REQUIRE(dims.size() == 4);
      CHECK(std::vector<std::int64_t>(dims.begin() + 1, dims.end()) ==
            std::vector<std::int64_t>{1, 8, 8});
    }
    std::map<std::string, Value> in;
    const std::string x = std::string(name) == "cnn_bn"     ? "cnn__x.npy"
                          : std::string(name) == "mlp_gelu" ? "mlp_gelu__x.npy"
                                                            : std::string(name) + "__in0.npy";
    in[m.input_names().at(0)] = npy_value(onnx_data(x));
    const auto a = m.run(in), b = back.run(in);
    for (const auto& [k, v] : a) {
      CHECK(b.at(k).type == v.type);
      CHECK(b.at(k).shape == v.shape);
      CHECK(b.at(k).floats == v.floats);  // bit-identical, not just close
      CHECK(b.at(k).ints == v.ints);
    }
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("a .pare file without a graph, or with a bad one, is refused", "[onnx][pare][bad]") {
  const auto dir = temp_dir();
  pare::io::PareWriter w;
  pare::Tensor<float, 1> t({3}, 1.0f);
  w.add("t", t);
  w.save(dir / "tensors.pare");
  CHECK_THROWS_AS(pare::load_model(dir / "tensors.pare"), pare::UnsupportedError);
  using pare::Json;
  auto with_graph = [&](Json g) {
    pare::io::PareWriter v;
    v.add("t", t);
    v.set_graph(std::move(g));
    v.save(dir / "g.pare");
    return dir / "g.pare";
  };
  const Json good =
      Json::object({{"kind", "pare.graph"},
                    {"version", 1},
                    {"opset", 13},
                    {"inputs", Json::array({"x"})},
                    {"outputs", Json::array({"y"})},
                    {"constants", Json::array({"t"})},
                    {"nodes", Json::array({Json::object({{"op", "Add"},
                                                         {"name", "add"},
                                                         {"domain", ""},
                                                         {"inputs", Json::array({"x", "t"})},
                                                         {"outputs", Json::array({"y"})},
                                                         {"attrs", Json::object()}})})}});
  const pare::Model m = pare::load_model(with_graph(good));
  Value x = Value::zeros({3});
  CHECK(m.run(x).floats == std::vector<float>{1, 1, 1});
  auto bad = [&](auto edit) {
    Json g = good;
    edit(g);
    return with_graph(g);
  };
  CHECK_THROWS_AS(pare::load_model(bad([](auto& g) { g["version"] = 2; })), pare::UnsupportedError);
  CHECK_THROWS_AS(pare::load_model(bad([](auto& g) { g.erase("nodes"); })), pare::FormatError);
  CHECK_THROWS_AS(pare::load_model(bad([](auto& g) { g["constants"] = Json::array({"nope"}); })),
                  pare::FormatError);
  CHECK_THROWS_AS(pare::load_model(bad([](auto& g) { g["inputs"] = Json::array({1}); })),
                  pare::FormatError);
  // Input shapes are optional; when present, one per input, of integers >= -1.
  CHECK(pare::load_model(
            bad([](auto& g) { g["input_shapes"] = Json::array({Json::array({-1, 3})}); }))
            .graph()
            .input_shapes == std::vector<std::vector<std::int64_t>>{{-1, 3}});
  CHECK_THROWS_AS(pare::load_model(bad([](auto& g) {
                    g["input_shapes"] = Json::array({Json::array({3}), Json::array({3})});
                  })),
                  pare::FormatError);
  CHECK_THROWS_AS(
      pare::load_model(bad([](auto& g) { g["input_shapes"] = Json::array({Json::array({-2})}); })),
      pare::FormatError);
  CHECK_THROWS_AS(pare::load_model(bad([](auto& g) { g["input_shapes"] = Json::array({"x"}); })),
                  pare::FormatError);
  CHECK_THROWS_AS(pare::load_model(bad([](auto& g) {
                    g["nodes"][0]["attrs"]["axis"] = Json::object({{"i", "x"}});
                  })),
                  pare::FormatError);
  CHECK_THROWS_AS(pare::load_model(bad(
                      [](auto& g) { g["nodes"][0]["attrs"]["axis"] = Json::object({{"zz", 1}}); })),
                  pare::FormatError);
  CHECK_THROWS_AS(
      pare::load_model(bad([](auto& g) { g["nodes"][0]["inputs"] = Json::array({"x", "q"}); })),
      pare::FormatError);
  std::filesystem::remove_all(dir);
}
