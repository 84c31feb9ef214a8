// SPDX-License-Identifier: Apache-2.0
// QatLinear (nn/qat_linear.hpp): gradients through the fake quantizer, and a QAT run on digits
// that beats post-training round-to-nearest at 4 bits.
#include <catch2/catch.hpp>
#include <cmath>

#include "pare/core/random.hpp"
#include "pare/nn/qat_linear.hpp"
#include "pare/quant/quantizer.hpp"
#include "quant/digits_model.hpp"

namespace {

pare::Tensor<float, 2> random_batch(std::size_t n, std::size_t width, std::uint64_t seed) {
  pare::Rng rng(seed);
  pare::Tensor<float, 2> x({n, width});
  for (float& v : x.span()) v = rng.normal();
  return x;
}

}  // namespace

TEST_CASE("QatLinear computes with fake-quantized weights and passes STE gradients", "[nn][qat]") {
  pare::Rng rng(8);
  pare::Linear fc(12, 5, rng);
  pare::QatLinear<pare::Int<4>> q(fc);
  const auto x = random_batch(3, 12, 2);
  const auto y = q.forward(x.view());
  // Ŵ: per-channel symmetric int4 of the weights, as the Quantizer computes it.
  using Q4 = pare::Quantizer<pare::Int<4>, pare::Symmetric, pare::PerChannel>;
  const auto wq = pare::dequantize(Q4{}.quantize(fc.weight().view()));
  for (std::size_t n = 0; n < 3; ++n)
    for (std::size_t o = 0; o < 5; ++o) {
      double s = fc.bias()(o);
      for (std::size_t i = 0; i < 12; ++i) s += static_cast<double>(x(n, i)) * wq(o, i);
      CHECK(y(n, o) == Approx(s).margin(1e-5));
    }
  const auto g = random_batch(3, 5, 3);
  const auto gx = q.backward(g.view());
  std::vector<pare::Parameter> params;
  q.for_each_parameter([&](const pare::Parameter& p) { params.push_back(p); });
  REQUIRE(params.size() == 2);
  // STE: dL/dW = gᵀx where round(w / s) is on the grid [-8, 7], 0 where it is clipped (min-max
  // symmetric scales put a row's positive extreme at 7.5 steps); dL/dx = g Ŵ.
  const auto p0 = q.params();
  std::size_t clipped = 0;
  for (std::size_t o = 0; o < 5; ++o)
    for (std::size_t i = 0; i < 12; ++i) {
      double s = 0;
      for (std::size_t n = 0; n < 3; ++n) s += static_cast<double>(g(n, o)) * x(n, i);
      const float c = std::nearbyint(fc.weight()(o, i) * (1.0f / p0[o].scale));
      if (c > 7 || c < -8) {
        s = 0;
        ++clipped;
      }
      CHECK(params[0].grad[o * 12 + i] == Approx(s).margin(1e-5));
    }
  CHECK(clipped > 0);
  for (std::size_t n = 0; n < 3; ++n)
    for (std::size_t i = 0; i < 12; ++i) {
      double s = 0;
      for (std::size_t o = 0; o < 5; ++o) s += static_cast<double>(g(n, o)) * wq(o, i);
      CHECK(gx(n, i) == Approx(s).margin(1e-5));
    }
  // LSQ adds the scales as a third parameter, with a gradient.
  pare::QatLinear<pare::Int<4>> l(fc, pare::QatMode::lsq);
  (void)l.forward(x.view());
  (void)l.backward(g.view());
  params.clear();
  l.for_each_parameter([&](const pare::Parameter& p) { params.push_back(p); });
  REQUIRE(params.size() == 3);
  CHECK(params[2].value.size() == 5);
  double gs = 0;
  for (float v : params[2].grad) gs += std::abs(v);
  CHECK(gs > 0);
  // Deployment weights are on the grid.
  const auto d = l.to_linear();
  const auto p = l.params();
  for (std::size_t o = 0; o < 5; ++o)
    for (std::size_t i = 0; i < 12; ++i) {
      const float c = d.weight()(o, i) / p[o].scale;
      CHECK(c == Approx(std::nearbyint(c)).margin(1e-4));
    }
  pare::QatLinear<pare::Int<4>> fresh(fc);
  REQUIRE_THROWS(fresh.backward(g.view()));
  REQUIRE_THROWS_AS(q.forward(random_batch(2, 11, 1).view()), pare::ShapeError);
}

TEST_CASE("QAT at int4 beats post-training RTN on digits", "[nn][qat][slow]") {
  using Q4 = pare::Quantizer<pare::Int<4>, pare::Symmetric, pare::PerChannel>;
  const auto& m = pare::test::digits_mlp();
  const auto& [train, test] = pare::test::digits_split();
  const double f32 = pare::accuracy(m, test);
  auto rtn = m;
  for (pare::Linear* fc : {&rtn.layer<0>(), &rtn.layer<2>(), &rtn.layer<4>()})
    fc->weight() = pare::dequantize(Q4{}.quantize(fc->weight().view()));
  const double rtn_acc = pare::accuracy(rtn, test);

  using QL = pare::QatLinear<pare::Int<4>>;
  pare::Sequential qat{QL(m.layer<0>(), pare::QatMode::lsq), pare::ReLU{},
                       QL(m.layer<2>(), pare::QatMode::lsq), pare::ReLU{},
                       QL(m.layer<4>(), pare::QatMode::lsq)};
  pare::Adam opt{.lr = 1e-3f};
  pare::BatchLoader loader(train, 32, 9);
  for (int epoch = 0; epoch < 4; ++epoch)
    for (const pare::Batch& b : loader.epoch()) {
      qat.zero_grad();
      auto [loss, grad] = pare::softmax_cross_entropy(qat.forward(b.x), b.y);
      (void)qat.backward(grad);
      opt.step(qat.parameters());
    }
  pare::test::DigitsMlp deployed{qat.layer<0>().to_linear(), pare::ReLU{},
                                 qat.layer<2>().to_linear(), pare::ReLU{},
                                 qat.layer<4>().to_linear()};
  const double qat_acc = pare::accuracy(deployed, test);
  INFO("f32 " << f32 << ", int4/channel RTN " << rtn_acc << ", QAT (LSQ) " << qat_acc);
  CHECK((qat_acc > rtn_acc || qat_acc >= f32 - 0.01));
  CHECK(qat_acc >= f32 - 0.01);
}
