// SPDX-License-Identifier: Apache-2.0
#include "pare/nn/dropout.hpp"

#include <catch2/catch.hpp>

#include "pare/nn/linear.hpp"
#include "pare/nn/sequential.hpp"

using pare::Tensor;

TEST_CASE("Dropout zeroes about p of the values and scales the rest by 1/(1-p)", "[nn][dropout]") {
  pare::Dropout drop(0.25f, 3);
  Tensor<float, 2> x({40, 100}, 2.0f);
  const auto y = drop.forward(x);
  std::size_t zeros = 0;
  for (float v : y.span()) {
    REQUIRE((v == 0.0f || v == 2.0f / 0.75f));
    zeros += v == 0.0f;
  }
  CHECK(static_cast<double>(zeros) / 4000.0 == Approx(0.25).margin(0.03));
  // The gradient passes exactly where the value did, with the same scale.
  Tensor<float, 2> g({40, 100}, 1.0f);
  const auto gx = drop.backward(g);
  for (std::size_t k = 0; k < gx.size(); ++k) REQUIRE(gx.data()[k] == y.data()[k] / 2.0f);
  // A fresh mask each forward; the same seed gives the same masks.
  pare::Dropout again(0.25f, 3);
  const auto y2 = drop.forward(x);
  const auto ya = again.forward(x);
  bool differs = false;
  for (std::size_t k = 0; k < y.size(); ++k) {
    REQUIRE(ya.data()[k] == y.data()[k]);
    differs |= y2.data()[k] != y.data()[k];
  }
  CHECK(differs);
}

TEST_CASE("Dropout is the identity in eval mode and in infer", "[nn][dropout]") {
  pare::Rng rng(1);
  pare::Sequential net{pare::Linear(4, 6, rng), pare::Dropout(0.5f, 1), pare::Linear(6, 2, rng)};
  Tensor<float, 2> x({3, 4}, 0.5f);
  const auto yi = net.infer(x);
  net.set_training(false);
  CHECK_FALSE(net.layer<1>().training());
  const auto yf = net.forward(x);
  for (std::size_t k = 0; k < yi.size(); ++k) REQUIRE(yf.data()[k] == yi.data()[k]);
  const auto g = net.backward(Tensor<float, 2>({3, 2}, 1.0f));
  CHECK(g.extent(1) == 4);
  CHECK_THROWS_AS(pare::Dropout(1.0f), pare::ArgumentError);
}
