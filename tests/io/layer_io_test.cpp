// SPDX-License-Identifier: Apache-2.0
// save_model / load_model_as: deployed models round-trip through .pare with identical outputs,
// and a file holding another model is a FormatError naming what does not fit.
#include "pare/io/layer_io.hpp"

#include <catch2/catch.hpp>

#include "io/io_test_util.hpp"

namespace {

using pare_test::TempDir;

pare::Tensor<float, 2> inputs(std::size_t n, std::size_t width, std::uint64_t seed) {
  pare::Rng rng(seed);
  pare::Tensor<float, 2> x({n, width});
  for (float& v : x.span()) v = rng.normal();
  return x;
}

template <class M>
bool same_outputs(const M& a, const M& b, const pare::Tensor<float, 2>& x) {
  const auto ya = a.infer(x.view());
  const auto yb = b.infer(x.view());
  return std::equal(ya.span().begin(), ya.span().end(), yb.span().begin());
}

auto make_cnn(pare::Rng& rng) {
  const pare::Conv2dGeometry c1{.in_channels = 1,
                                .out_channels = 4,
                                .in_h = 8,
                                .in_w = 8,
                                .kernel_h = 3,
                                .kernel_w = 3,
                                .pad_top = 1,
                                .pad_left = 1,
                                .pad_bottom = 1,
                                .pad_right = 1};
  const pare::Pool2dGeometry p1{.channels = 4,
                                .in_h = 8,
                                .in_w = 8,
                                .kernel_h = 2,
                                .kernel_w = 2,
                                .stride_h = 2,
                                .stride_w = 2};
  const pare::Pool2dGeometry p2{.channels = 4,
                                .in_h = 4,
                                .in_w = 4,
                                .kernel_h = 2,
                                .kernel_w = 2,
                                .stride_h = 2,
                                .stride_w = 2};
  return pare::Sequential{pare::Conv2d(c1, rng), pare::ReLU{}, pare::MaxPool2d(p1),
                          pare::AvgPool2d(p2), pare::Linear(16, 3, rng)};
}

}  // namespace

TEST_CASE("layer_io: an MLP and a CNN round-trip with identical outputs", "[io][layer_io]") {
  TempDir dir;
  pare::Rng rng(3);
  const pare::Sequential mlp{pare::Linear(6, 5, rng), pare::ReLU{}, pare::Linear(5, 2, rng)};
  pare::io::save_model(mlp, dir / "mlp.pare", {{"note", "test"}});
  const auto mlp2 = pare::io::load_model_as<std::remove_const_t<decltype(mlp)>>(dir / "mlp.pare");
  CHECK(same_outputs(mlp, mlp2, inputs(7, 6, 1)));
  CHECK(pare::io::stored_parameter_count(mlp) == 6 * 5 + 5 + 5 * 2 + 2);
  const auto f = pare::io::PareFile::open(dir / "mlp.pare");
  CHECK(f.graph()["kind"] == "pare.sequential");
  CHECK(f.graph()["layers"][1]["type"] == "relu");
  CHECK(f.metadata().at("note") == "test");

  const auto cnn = make_cnn(rng);
  pare::io::save_model(cnn, dir / "cnn.pare");
  const auto cnn2 = pare::io::load_model_as<std::remove_const_t<decltype(cnn)>>(dir / "cnn.pare");
  CHECK(same_outputs(cnn, cnn2, inputs(5, 64, 2)));
}

TEST_CASE("layer_io: a file holding another model is a FormatError", "[io][layer_io]") {
  TempDir dir;
  pare::Rng rng(3);
  const pare::Sequential mlp{pare::Linear(6, 5, rng), pare::ReLU{}, pare::Linear(5, 2, rng)};
  pare::io::save_model(mlp, dir / "mlp.pare");
  using Shorter = pare::Sequential<pare::Linear, pare::ReLU>;
  REQUIRE_THROWS_WITH(pare::io::load_model_as<Shorter>(dir / "mlp.pare"),
                      Catch::Contains("3 layers") && Catch::Contains("has 2"));
  using Swapped = pare::Sequential<pare::Linear, pare::Linear, pare::Linear>;
  REQUIRE_THROWS_WITH(pare::io::load_model_as<Swapped>(dir / "mlp.pare"),
                      Catch::Contains("layers[1].type") && Catch::Contains("'relu'"));
  REQUIRE_THROWS_AS(pare::io::load_model_as<Shorter>(dir / "missing.pare"), pare::Error);

  // A state file (save_state) has no model graph.
  pare::io::PareWriter w;
  const pare::Tensor<float, 1> t({3}, 1.0f);
  w.add("x", t);
  w.save(dir / "plain.pare");
  REQUIRE_THROWS_WITH(pare::io::load_model_as<Shorter>(dir / "plain.pare"),
                      Catch::Contains("pare.sequential"));

  // The graph names a layer whose arrays are missing or misshapen.
  pare::io::PareWriter bad;
  const pare::Tensor<float, 2> wgt({5, 6}, 0.5f);
  const pare::Tensor<float, 1> b({4}, 0.0f);
  bad.add("0.weight", wgt);
  bad.add("0.bias", b);
  using pare::Json;
  bad.set_graph(
      Json::object({{"kind", "pare.sequential"},
                    {"layers", Json::array({Json::object({{"type", "linear"}, {"name", "0"}}),
                                            Json::object({{"type", "linear"}})})}}));
  bad.save(dir / "bad.pare");
  using Two = pare::Sequential<pare::Linear, pare::Linear>;
  REQUIRE_THROWS_WITH(pare::io::load_model_as<Two>(dir / "bad.pare"),
                      Catch::Contains("0.bias") || Catch::Contains("bias"));
}

TEST_CASE("layer_io: a LayerStack loads what save_model wrote, as the types it allows",
          "[io][layer_io]") {
  TempDir dir;
  pare::Rng rng(4);
  const pare::Sequential mlp{pare::Linear(6, 5, rng), pare::ReLU{}, pare::Linear(5, 2, rng)};
  pare::io::save_model(mlp, dir / "mlp.pare");
  using Stack = pare::LayerStack<pare::Linear, pare::ReLU>;
  const auto s = pare::io::load_layer_stack<Stack>(dir / "mlp.pare");
  REQUIRE(s.size() == 3);
  const auto x = inputs(4, 6, 9);
  const auto ya = mlp.infer(x.view());
  const auto yb = s.infer(x.view());
  CHECK(std::equal(ya.span().begin(), ya.span().end(), yb.span().begin()));
  pare::Tensor<float, 1> y1({2});
  s.infer(x.view()[0], y1.view());
  CHECK(y1[0] == ya(0, 0));
  CHECK(pare::io::stored_parameter_count(s) == pare::io::stored_parameter_count(mlp));
  pare::io::save_model(s, dir / "again.pare");
  const auto again =
      pare::io::load_model_as<std::remove_const_t<decltype(mlp)>>(dir / "again.pare");
  CHECK(same_outputs(mlp, again, x));

  using OnlyLinear = pare::LayerStack<pare::Linear>;
  REQUIRE_THROWS_WITH(pare::io::load_layer_stack<OnlyLinear>(dir / "mlp.pare"),
                      Catch::Contains("'relu'") && Catch::Contains("does not know"));
  static_assert(pare::Layer<Stack>);
}

namespace {

pare::Linear random_linear(std::size_t in, std::size_t out, std::uint64_t seed) {
  pare::Rng rng(seed);
  return pare::Linear(in, out, rng);
}

pare::Tensor<std::uint8_t, 2> random_mask(std::size_t rows, std::size_t cols, double keep,
                                          std::uint64_t seed) {
  pare::Rng rng(seed);
  pare::Tensor<std::uint8_t, 2> m({rows, cols});
  for (auto& v : m.span()) v = rng.uniform() < keep ? 1 : 0;
  return m;
}

pare::Tensor<std::uint8_t, 2> two_of_four(std::size_t rows, std::size_t cols) {
  pare::Tensor<std::uint8_t, 2> m({rows, cols}, 0);
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t g = 0; g < cols / 4; ++g) {
      m(r, g * 4 + (r + g) % 4) = 1;
      m(r, g * 4 + (r + g + 1 + g % 2) % 4) = 1;
    }
  return m;
}

template <class Model>
void require_round_trip(const Model& model, const TempDir& dir, std::size_t in) {
  pare::io::save_model(model, dir / "m.pare");
  const auto back = pare::io::load_model_as<Model>(dir / "m.pare");
  CHECK(same_outputs(model, back, inputs(9, in, 5)));
  CHECK(pare::io::stored_parameter_count(back) == pare::io::stored_parameter_count(model));
}

}  // namespace

TEST_CASE("layer_io: quantized and sparse layers round-trip bit-exactly", "[io][layer_io]") {
  TempDir dir;
  const auto a = random_linear(64, 24, 1), b = random_linear(24, 8, 2);
  SECTION("int8") {
    require_round_trip(pare::Sequential{pare::Int8Linear(a), pare::ReLU{}, pare::Int8Linear(b)},
                       dir, 64);
    // The file holds one byte per weight.
    CHECK(std::filesystem::file_size(dir / "m.pare") < (64 * 24 + 24 * 8) * 2);
  }
  SECTION("int4 blocks and NF4") {
    const auto c = random_linear(64, 32, 3), d = random_linear(32, 8, 4);
    require_round_trip(pare::Sequential{pare::Int4Linear<pare::Q4G32>::from(c), pare::ReLU{},
                                        pare::Lut4Linear::from(d, 32)},
                       dir, 64);
  }
  SECTION("CSR and 2:4") {
    const auto ma = random_mask(24, 64, 0.2, 7);
    const auto mb = two_of_four(8, 24);
    require_round_trip(
        pare::Sequential{pare::SparseLinear<pare::Csr<std::uint16_t>>(a, ma.view()), pare::ReLU{},
                         pare::SparseLinear<pare::PackedNM<2, 4>>(b, mb.view())},
        dir, 64);
  }
}

TEST_CASE("layer_io: hostile sparse arrays are FormatErrors", "[io][layer_io]") {
  TempDir dir;
  auto write = [&](std::vector<std::uint32_t> row_ptr, std::vector<std::uint16_t> col,
                   std::vector<float> values) {
    pare::io::PareWriter w;
    pare::Tensor<std::uint32_t, 1> rp({row_ptr.size()});
    std::copy(row_ptr.begin(), row_ptr.end(), rp.data());
    pare::Tensor<std::uint16_t, 1> c({col.size()});
    std::copy(col.begin(), col.end(), c.data());
    pare::Tensor<float, 1> v({values.size()});
    std::copy(values.begin(), values.end(), v.data());
    pare::Tensor<float, 1> bias({row_ptr.size() - 1}, 0.0f);
    w.add("0.row_ptr", rp);
    w.add("0.col", c);
    w.add("0.values", v);
    w.add("0.bias", bias);
    w.set_graph(pare::Json::object(
        {{"kind", "pare.sequential"},
         {"layers", pare::Json::array({pare::Json::object(
                        {{"type", "csr16_linear"}, {"name", "0"}, {"cols", 4}})})}}));
    w.save(dir / "csr.pare");
  };
  using M = pare::Sequential<pare::SparseLinear<pare::Csr<std::uint16_t>>>;
  write({0, 1, 2}, {0, 3}, {1.0f, 2.0f});
  CHECK_NOTHROW(pare::io::load_model_as<M>(dir / "csr.pare"));
  write({0, 1, 2}, {0, 4}, {1.0f, 2.0f});
  CHECK_THROWS_WITH(pare::io::load_model_as<M>(dir / "csr.pare"), Catch::Contains("out of range"));
  write({0, 2, 1}, {0, 1}, {1.0f, 2.0f});
  CHECK_THROWS_AS(pare::io::load_model_as<M>(dir / "csr.pare"), pare::FormatError);
  write({0, 1, 3}, {0, 1}, {1.0f, 2.0f});
  CHECK_THROWS_AS(pare::io::load_model_as<M>(dir / "csr.pare"), pare::FormatError);
  // Found by fuzz_pare_model: a row pointer past the value count inside an otherwise valid
  // array used to read out of bounds.
  write({0, 5, 2}, {0, 1}, {1.0f, 2.0f});
  CHECK_THROWS_WITH(pare::io::load_model_as<M>(dir / "csr.pare"),
                    Catch::Contains("row_ptr") && Catch::Contains("row 0"));
}

namespace {
// A user's layer: ReLU's computation, plus settings that only its codec knows how to store.
struct TaggedRelu : pare::ReLU {
  float slope = 0;
  std::string note;
  std::vector<std::size_t> dims;
};
}  // namespace

template <>
struct pare::io::LayerCodec<TaggedRelu> {
  static constexpr std::string_view type = "test_tagged_relu";
  static pare::Json save(LayerWriter&, const TaggedRelu& l) {
    return pare::Json::object({{"slope", l.slope}, {"note", l.note}, {"dims", l.dims}});
  }
  static TaggedRelu load(const LayerReader& r) {
    TaggedRelu l;
    l.slope = r.attr<float>("slope");
    l.note = r.attr<std::string>("note");
    l.dims = r.attr<std::vector<std::size_t>>("dims");
    return l;
  }
  static std::size_t stored_parameters(const TaggedRelu&) { return 0; }
};
static_assert(pare::io::StorableLayer<TaggedRelu>);

TEST_CASE("layer io: a user's LayerCodec stores its attributes as pare::Json", "[io][layer_io]") {
  TempDir dir;
  pare::Rng rng(5);
  TaggedRelu tagged;
  tagged.slope = 0.1f;
  tagged.note = "caf\xc3\xa9 \"quoted\"";
  tagged.dims = {3, 1};
  const pare::Sequential model{pare::Linear(4, 3, rng), tagged};
  pare::io::save_model(model, dir / "user.pare");
  const auto back =
      pare::io::load_model_as<std::remove_const_t<decltype(model)>>(dir / "user.pare");
  CHECK(back.layer<1>().slope == 0.1f);
  CHECK(back.layer<1>().note == tagged.note);
  CHECK(back.layer<1>().dims == tagged.dims);
  // The attributes sit in the layer's entry after its type and name, in the codec's order.
  const auto f = pare::io::PareFile::open(dir / "user.pare");
  CHECK(f.graph().at("layers")[1].dump() ==
        R"({"type":"test_tagged_relu","name":"1","slope":0.10000000149011612,)"
        R"("note":"caf)"
        "\xc3\xa9"
        R"( \"quoted\"","dims":[3,1]})");

  // A mistyped attribute is a FormatError naming it.
  pare::io::PareWriter w;
  const pare::Tensor<float, 2> wgt({3, 4}, 0.5f);
  const pare::Tensor<float, 1> b({3}, 0.0f);
  w.add("0.weight", wgt);
  w.add("0.bias", b);
  w.set_graph(pare::Json::object(
      {{"kind", "pare.sequential"},
       {"layers", pare::Json::array({pare::Json::object({{"type", "linear"}, {"name", "0"}}),
                                     pare::Json::object({{"type", "test_tagged_relu"},
                                                         {"name", "1"},
                                                         {"slope", "steep"},
                                                         {"note", ""},
                                                         {"dims", pare::Json::array()}})})}}));
  w.save(dir / "bad.pare");
  REQUIRE_THROWS_WITH(
      pare::io::load_model_as<std::remove_const_t<decltype(model)>>(dir / "bad.pare"),
      Catch::Contains("graph.layers.1.slope") && Catch::Contains("has the wrong type") &&
          Catch::Contains("found a string"));
}
