// SPDX-License-Identifier: Apache-2.0
#include "pare/nn/relu.hpp"

#include <catch2/catch.hpp>
#include <cmath>

#include "nn/test_util.hpp"

TEST_CASE("ReLU clamps negatives and passes the gradient where the input was positive",
          "[nn][relu]") {
  pare::ReLU relu;
  pare::Tensor<float, 2> x({1, 4});
  const float xv[] = {-2.0f, 0.0f, 0.5f, 3.0f};
  for (std::size_t i = 0; i < 4; ++i) x.data()[i] = xv[i];
  const auto y = relu.forward(x);
  CHECK(y(0, 0) == 0.0f);
  CHECK(y(0, 1) == 0.0f);
  CHECK(y(0, 2) == 0.5f);
  CHECK(y(0, 3) == 3.0f);
  const auto g = relu.backward(pare::Tensor<float, 2>({1, 4}, 7.0f));
  CHECK(g(0, 0) == 0.0f);
  CHECK(g(0, 1) == 0.0f);  // PyTorch's choice at the kink
  CHECK(g(0, 2) == 7.0f);
  CHECK(g(0, 3) == 7.0f);
  pare::Tensor<float, 1> y1({4});
  relu.infer(x[0], y1.view());
  for (std::size_t i = 0; i < 4; ++i) CHECK(y1[i] == y(0, i));
  REQUIRE_THROWS_AS(relu.backward(pare::Tensor<float, 2>({2, 4})), pare::ShapeError);
}

TEST_CASE("ReLU's gradient matches finite differences away from the kink",
          "[nn][relu][gradcheck]") {
  pare::Rng rng(3);
  auto x = pare::test::random_matrix(4, 9, rng);
  for (float& v : x.span())
    if (std::abs(v) < 0.05f) v = 0.1f;  // finite differences straddling 0 are meaningless
  const auto w = pare::test::random_matrix(4, 9, rng);
  pare::ReLU relu;
  (void)relu.forward(x);
  const auto grad = relu.backward(w);
  const auto loss = [&] { return pare::test::weighted_sum(relu.infer(x), w); };
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double fd = pare::test::central_difference(x.data()[i], loss, 1e-2f);
    REQUIRE(grad.data()[i] == Approx(fd).margin(1e-4));
  }
}
