// SPDX-License-Identifier: Apache-2.0
// 4-bit linear layers (nn/linear_int4.hpp): outputs against the float layer with the dequantized
// weights, and accuracy of the digits MLP after RTN and GPTQ 4-bit quantization.
#include <catch2/catch.hpp>
#include <cmath>

#include "pare/core/random.hpp"
#include "pare/nn/linear_int4.hpp"
#include "pare/nn/metrics.hpp"
#include "quant/digits_model.hpp"

namespace {

pare::Tensor<float, 2> random_batch(std::size_t n, std::size_t width, std::uint64_t seed) {
  pare::Rng rng(seed);
  pare::Tensor<float, 2> x({n, width});
  for (float& v : x.span()) v = rng.normal();
  return x;
}

// Max |a - b| over max |b|.
double relative_max_error(const pare::Tensor<float, 2>& a, const pare::Tensor<float, 2>& b) {
  double num = 0, den = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    num = std::max(num, static_cast<double>(std::abs(a.data()[i] - b.data()[i])));
    den = std::max(den, static_cast<double>(std::abs(b.data()[i])));
  }
  return num / den;
}

// The float layer computing with the 4-bit layer's dequantized weights.
template <class Q>
pare::Linear float_twin(const Q& q) {
  pare::Linear fc(q.in_features(), q.out_features());
  fc.weight() = pare::dequantize(q.weight());
  fc.bias() = q.bias();
  return fc;
}

using pare::test::DigitsMlp;

template <class L>
using Quantized = pare::Sequential<L, pare::ReLU, L, pare::ReLU, L>;

// GPTQ (calibrated on float inputs of the train set) or RTN of all three layers.
template <class L, class MakeRtn, class MakeGptq>
std::pair<double, double> rtn_and_gptq_accuracy(MakeRtn rtn, MakeGptq gptq) {
  const auto& m = pare::test::digits_mlp();
  const auto& [train, test] = pare::test::digits_split();
  const auto in = pare::test::layer_inputs(m, train.x.view());
  const auto hessian = [](const pare::Tensor<float, 2>& x) {
    pare::LayerHessian h(x.extent(1));
    h.add(x.view());
    return h;
  };
  Quantized<L> r{rtn(m.layer<0>()), pare::ReLU{}, rtn(m.layer<2>()), pare::ReLU{},
                 rtn(m.layer<4>())};
  Quantized<L> g{gptq(m.layer<0>(), hessian(in.in0)), pare::ReLU{},
                 gptq(m.layer<2>(), hessian(in.in1)), pare::ReLU{},
                 gptq(m.layer<4>(), hessian(in.in2))};
  return {pare::accuracy(r, test), pare::accuracy(g, test)};
}

}  // namespace

TEST_CASE("Int4Linear computes the float layer of its dequantized weights", "[nn][int4]") {
  pare::Rng rng(4);
  for (std::size_t in : {32u, 96u, 160u}) {
    pare::Linear fc(in, 13, rng);
    const auto x = random_batch(5, in, in);
    const auto q32 = pare::Int4Linear<pare::Q4G32>::from(fc);
    const auto q16 = pare::Int4Linear<pare::Q4G16>::from(fc);
    const auto nf4 = pare::Lut4Linear::from(fc, 32);
    // GemvInt4Q8 rounds x to int8 per group where the CPU has VNNI: about 0.4 % of |x|.
    CHECK(relative_max_error(q32.infer(x.view()), float_twin(q32).infer(x.view())) < 1e-2);
    CHECK(relative_max_error(q16.infer(x.view()), float_twin(q16).infer(x.view())) < 1e-2);
    CHECK(relative_max_error(nf4.infer(x.view()), float_twin(nf4).infer(x.view())) < 1e-5);
    CHECK(q32.size_bytes() < fc.weight().size_bytes() / 7 + fc.bias().size_bytes() + 8);
    // forward is infer; the single-sample path agrees with the batch path.
    auto qf = q32;
    const auto yb = qf.forward(x.view());
    pare::Tensor<float, 1> y1({13});
    q32.infer(x.view()[2], y1.view());
    for (std::size_t o = 0; o < 13; ++o) CHECK(y1(o) == yb(2, o));
  }
}

TEST_CASE("4-bit layers are frozen and check shapes", "[nn][int4]") {
  pare::Rng rng(5);
  pare::Linear fc(64, 8, rng);
  auto q = pare::Int4Linear<pare::Q4G32>::from(fc);
  auto l = pare::Lut4Linear::from(fc, 64);
  const auto x = random_batch(2, 64, 1);
  REQUIRE_THROWS_AS(q.backward(x.view()), pare::UnsupportedError);
  REQUIRE_THROWS_AS(l.backward(x.view()), pare::UnsupportedError);
  const auto bad = random_batch(2, 63, 1);
  REQUIRE_THROWS_AS(q.infer(bad.view()), pare::ShapeError);
  REQUIRE_THROWS_AS(l.infer(bad.view()), pare::ShapeError);
  REQUIRE_THROWS_AS(q.output_size(65), pare::ShapeError);
  int count = 0;
  q.for_each_parameter([&](const pare::Parameter&) { ++count; });
  CHECK(count == 0);
  pare::Linear odd(40, 8, rng);
  REQUIRE_THROWS_AS(pare::Int4Linear<pare::Q4G32>::from(odd), pare::ArgumentError);
  REQUIRE_THROWS_AS(pare::Lut4Linear::from(odd, 32), pare::ArgumentError);
}

TEST_CASE("4-bit digits MLP: GPTQ loses at most 1.5 points", "[nn][int4][gptq][slow]") {
  const double f32 = pare::accuracy(pare::test::digits_mlp(), pare::test::digits_split().test);
  const auto [rtn32, gptq32] = rtn_and_gptq_accuracy<pare::Int4Linear<pare::Q4G32>>(
      [](const pare::Linear& fc) { return pare::Int4Linear<pare::Q4G32>::from(fc); },
      [](const pare::Linear& fc, const pare::LayerHessian& h) {
        return pare::Int4Linear<pare::Q4G32>::from_gptq(fc, h);
      });
  const auto [rtn_nf4, gptq_nf4] = rtn_and_gptq_accuracy<pare::Lut4Linear>(
      [](const pare::Linear& fc) { return pare::Lut4Linear::from(fc, 32); },
      [](const pare::Linear& fc, const pare::LayerHessian& h) {
        return pare::Lut4Linear::from_gptq(fc, h, 32);
      });
  INFO("f32 " << f32 << "; Q4G32 rtn " << rtn32 << " gptq " << gptq32 << "; NF4 g32 rtn " << rtn_nf4
              << " gptq " << gptq_nf4);
  CHECK(f32 > 0.93);
  CHECK(gptq32 >= f32 - 0.015);
  CHECK(gptq_nf4 >= f32 - 0.015);
}
