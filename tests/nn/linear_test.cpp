// SPDX-License-Identifier: Apache-2.0
#include "pare/nn/linear.hpp"

#include <catch2/catch.hpp>
#include <cmath>

#include "nn/test_util.hpp"

using pare::test::central_difference;
using pare::test::random_matrix;
using pare::test::weighted_sum;

TEST_CASE("Linear computes x Wᵀ + b", "[nn][linear]") {
  pare::Linear fc(3, 2);
  const float w[] = {1, 2, 3, -1, 0, 4};
  for (std::size_t i = 0; i < 6; ++i) fc.weight().data()[i] = w[i];
  fc.bias()[0] = 0.5f;
  fc.bias()[1] = -2.0f;
  pare::Tensor<float, 2> x({2, 3});
  const float xv[] = {1, 1, 1, 2, -1, 0.5f};
  for (std::size_t i = 0; i < 6; ++i) x.data()[i] = xv[i];
  const auto y = fc.infer(x);
  REQUIRE(y.extent(0) == 2);
  REQUIRE(y.extent(1) == 2);
  CHECK(y(0, 0) == 6.5f);   // 1+2+3+0.5
  CHECK(y(0, 1) == 1.0f);   // -1+0+4-2
  CHECK(y(1, 0) == 2.0f);   // 2-2+1.5+0.5
  CHECK(y(1, 1) == -2.0f);  // -2+0+2-2
  // The single-sample path (gemv) agrees with the batched one.
  pare::Tensor<float, 1> y1({2});
  fc.infer(x[1], y1.view());
  CHECK(y1[0] == y(1, 0));
  CHECK(y1[1] == y(1, 1));
  REQUIRE_THROWS_AS(fc.infer(pare::Tensor<float, 2>({2, 4})), pare::ShapeError);
}

TEST_CASE("Linear's default init is torch.nn.Linear's and is seeded", "[nn][linear]") {
  pare::Rng a(1), b(1), c(2);
  pare::Linear fa(100, 50, a), fb(100, 50, b), fc(100, 50, c);
  const float bound = 1.0f / std::sqrt(100.0f);  // kaiming_uniform(a=√5) == U(±1/√fan_in)
  float lo = 1, hi = -1;
  double sum = 0;
  for (std::size_t i = 0; i < fa.weight().size(); ++i) {
    const float v = fa.weight().data()[i];
    REQUIRE(v == fb.weight().data()[i]);
    REQUIRE(std::abs(v) <= bound);
    lo = std::min(lo, v);
    hi = std::max(hi, v);
    sum += v;
  }
  CHECK(lo < -0.95f * bound);  // the draw fills the interval
  CHECK(hi > 0.95f * bound);
  CHECK(std::abs(sum / 5000.0) < 0.01);
  for (float v : fa.bias().span()) REQUIRE(std::abs(v) <= bound);
  REQUIRE(fa.weight().data()[0] != fc.weight().data()[0]);
  // He-uniform for ReLU (a = 0) has bound √(6 / fan_in).
  std::vector<float> he(10000);
  pare::Rng r(3);
  pare::kaiming_uniform(he, 24, r, 0.0f);
  float m = 0;
  for (float v : he) m = std::max(m, std::abs(v));
  CHECK(m <= 0.5f);
  CHECK(m > 0.49f);
}

TEST_CASE("Linear's gradients match finite differences", "[nn][linear][gradcheck]") {
  pare::Rng rng(11);
  pare::Linear fc(6, 4, rng);
  const auto x = random_matrix(5, 6, rng);
  const auto w = random_matrix(5, 4, rng);  // L = Σ w ⊙ fc(x), so dL/dy = w
  const auto loss = [&] { return weighted_sum(fc.infer(x), w); };

  (void)fc.forward(x);
  const auto grad_x = fc.backward(w);
  const float eps = 1e-2f;  // L is linear in every input: the step size only adds rounding
  for (std::size_t i = 0; i < fc.weight().size(); ++i) {
    const double fd = central_difference(fc.weight().data()[i], loss, eps);
    REQUIRE(fc.weight_grad().data()[i] == Approx(fd).margin(1e-4));
  }
  for (std::size_t i = 0; i < fc.bias().size(); ++i) {
    const double fd = central_difference(fc.bias().data()[i], loss, eps);
    REQUIRE(fc.bias_grad()[i] == Approx(fd).margin(1e-4));
  }
  auto xm = x;
  const auto loss_x = [&] { return weighted_sum(fc.infer(xm), w); };
  for (std::size_t i = 0; i < xm.size(); ++i) {
    const double fd = central_difference(xm.data()[i], loss_x, eps);
    REQUIRE(grad_x.data()[i] == Approx(fd).margin(1e-4));
  }
}

TEST_CASE("Linear accumulates parameter gradients across backward calls", "[nn][linear]") {
  pare::Rng rng(5);
  pare::Linear fc(3, 2, rng);
  const auto x = random_matrix(4, 3, rng);
  const auto g = random_matrix(4, 2, rng);
  (void)fc.forward(x);
  (void)fc.backward(g);
  const pare::Tensor<float, 2> once = fc.weight_grad();
  (void)fc.backward(g);
  for (std::size_t i = 0; i < once.size(); ++i)
    REQUIRE(fc.weight_grad().data()[i] == Approx(2 * once.data()[i]));
  REQUIRE_THROWS_AS(fc.backward(pare::Tensor<float, 2>({3, 2})), pare::ShapeError);
}
