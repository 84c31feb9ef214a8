// SPDX-License-Identifier: Apache-2.0
// QuantizedLinear<Q> in .pare: round trips for int8, Int<4>/UInt<4> and a user format, stored
// under the format's own name; a file refuses to load as another format, naming both.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>

#include "io/io_test_util.hpp"
#include "pare/core/random.hpp"
#include "pare/io/layer_io.hpp"
#include "pare/io/pare_file.hpp"
#include "pare/nn/quantized_linear.hpp"
#include "pare/nn/relu.hpp"
#include "pare/nn/sequential.hpp"
#include "pare/quant/quantizer.hpp"
#include "user_policies.hpp"

namespace {

using pare::test::LogScale4;

// A user's 2-bit integer grid with its own name: not pare's Int<2>.
struct Ternary2 {
  static constexpr const char* name = "ternary2";
  static constexpr int bits = 2;
  static constexpr int qmin = -1;
  static constexpr int qmax = 1;
  using code_type = std::int8_t;
};
static_assert(pare::QuantFormat<Ternary2>);

template <class Model>
void require_same_outputs(const Model& a, const Model& b, std::size_t in) {
  pare::Rng rng(9);
  pare::Tensor<float, 2> x({3, in});
  for (float& v : x.span()) v = rng.normal();
  const auto ya = a.infer(x.view()), yb = b.infer(x.view());
  REQUIRE(ya.size() == yb.size());
  for (std::size_t i = 0; i < ya.size(); ++i) REQUIRE(ya.data()[i] == yb.data()[i]);
}

std::string format_error_of(const auto& f) {
  try {
    f();
  } catch (const pare::FormatError& e) {
    return e.what();
  }
  return "no FormatError";
}

}  // namespace

using pare_test::TempDir;

using LogLayer = pare::QuantizedLinear<pare::DecodeQuantizer<LogScale4, pare::PerGroup<32>>>;
using Int4Layer =
    pare::QuantizedLinear<pare::Quantizer<pare::Int<4>, pare::Symmetric, pare::PerGroup<32>>>;
using UInt4Layer =
    pare::QuantizedLinear<pare::Quantizer<pare::UInt<4>, pare::Affine, pare::PerGroup<32>>>;
using Int8Layer =
    pare::QuantizedLinear<pare::Quantizer<pare::Int<8>, pare::Symmetric, pare::PerChannel>>;

TEST_CASE("QuantizedLinear layers round trip through .pare", "[io][quantized_linear]") {
  pare::Rng rng(1);
  const pare::Linear fc1(64, 32, rng), fc2(32, 8, rng);
  TempDir dir;
  SECTION("a user's 4-bit format, then int8") {
    using M = pare::Sequential<LogLayer, pare::ReLU, Int8Layer>;
    const M m(LogLayer(fc1), pare::ReLU{}, Int8Layer(fc2));
    pare::io::save_model(m, dir / "m.pare");
    const auto back = pare::io::load_model_as<M>(dir / "m.pare");
    require_same_outputs(m, back, 64);
    const auto f = pare::io::PareFile::open(dir / "m.pare");
    REQUIRE(f.graph().dump().find("logscale4") != std::string::npos);
  }
  SECTION("Int<4> symmetric and UInt<4> affine (offsets stored)") {
    using M = pare::Sequential<UInt4Layer, pare::ReLU, Int4Layer>;
    const M m(UInt4Layer(fc1), pare::ReLU{}, Int4Layer(fc2));
    REQUIRE(m.layer<0>().weight().offsets() != nullptr);
    pare::io::save_model(m, dir / "m.pare");
    const auto back = pare::io::load_model_as<M>(dir / "m.pare");
    require_same_outputs(m, back, 64);
  }
}

TEST_CASE("A file saved with one format refuses to load as another", "[io][quantized_linear]") {
  pare::Rng rng(2);
  const pare::Linear fc(64, 16, rng);
  TempDir dir;
  pare::io::save_model(pare::Sequential<LogLayer>(LogLayer(fc)), dir / "log.pare");
  const std::string e1 = format_error_of(
      [&] { (void)pare::io::load_model_as<pare::Sequential<Int4Layer>>(dir / "log.pare"); });
  CHECK_THAT(e1, Catch::Contains("logscale4") && Catch::Contains("int4"));
  const std::string e2 = format_error_of(
      [&] { (void)pare::io::load_model_as<pare::Sequential<Int8Layer>>(dir / "log.pare"); });
  CHECK_THAT(e2, Catch::Contains("logscale4") && Catch::Contains("int8"));
  // As NF4 (Lut4Linear): a different layer type, named with the one the file holds.
  const std::string e3 = format_error_of(
      [&] { (void)pare::io::load_model_as<pare::Sequential<pare::Lut4Linear>>(dir / "log.pare"); });
  CHECK_THAT(e3, Catch::Contains("quantized_linear") && Catch::Contains("lut4_linear") &&
                     Catch::Contains("logscale4"));
  // Same format, another group size.
  using Log64 = pare::QuantizedLinear<pare::DecodeQuantizer<LogScale4, pare::PerGroup<64>>>;
  const std::string e4 = format_error_of(
      [&] { (void)pare::io::load_model_as<pare::Sequential<Log64>>(dir / "log.pare"); });
  CHECK_THAT(e4, Catch::Contains("group") && Catch::Contains("64"));
}

TEST_CASE("A user's integer format is stored under its own name, not int2",
          "[io][quantized_linear]") {
  pare::Rng rng(3);
  pare::Tensor<float, 2> w({4, 32});
  for (float& v : w.span()) v = rng.normal();
  const auto q =
      pare::Quantizer<Ternary2, pare::Symmetric, pare::PerGroup<32>>{}.quantize(w.view());
  TempDir dir;
  {
    pare::io::PareWriter out;
    out.add_quantized("w", q);
    out.save(dir / "t.pare");
  }
  const auto f = pare::io::PareFile::open(dir / "t.pare");
  const auto back = f.quantized<Ternary2, pare::PerGroup<32>>("w");
  for (std::size_t r = 0; r < 4; ++r)
    for (std::size_t c = 0; c < 32; ++c) REQUIRE(back.code(r, c) == q.code(r, c));
  std::string e;
  try {
    (void)f.quantized<pare::Int<2>, pare::PerGroup<32>>("w");
  } catch (const pare::FormatError& err) {
    e = err.what();
  }
  CHECK_THAT(e, Catch::Contains("ternary2") && Catch::Contains("int2"));
}
