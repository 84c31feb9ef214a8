// SPDX-License-Identifier: Apache-2.0
#include "pare/nn/sequential.hpp"

#include <catch2/catch.hpp>

#include "nn/test_util.hpp"
#include "pare/nn/linear.hpp"
#include "pare/nn/loss.hpp"
#include "pare/nn/relu.hpp"

using Mlp = pare::Sequential<pare::Linear, pare::ReLU, pare::Linear>;
static_assert(pare::Layer<Mlp>);
static_assert(pare::Layer<pare::Sequential<Mlp, pare::ReLU>>, "Sequentials nest");

TEST_CASE("Sequential counts parameters and bytes", "[nn][sequential]") {
  pare::Rng rng(1);
  pare::Sequential m{pare::Linear(64, 128, rng), pare::ReLU{}, pare::Linear(128, 64, rng),
                     pare::ReLU{}, pare::Linear(64, 10, rng)};
  constexpr std::size_t expect = 64 * 128 + 128 + 128 * 64 + 64 + 64 * 10 + 10;
  CHECK(m.parameter_count() == expect);
  CHECK(m.size_bytes() == expect * 4);
  CHECK(m.parameters().size() == 6);
  CHECK(m.output_size(64) == 10);
  REQUIRE_THROWS_AS(m.output_size(63), pare::ShapeError);
}

TEST_CASE("Sequential's batched and single-sample paths agree", "[nn][sequential]") {
  pare::Rng rng(2);
  Mlp m(pare::Linear(8, 16, rng), pare::ReLU{}, pare::Linear(16, 3, rng));
  const auto x = pare::test::random_matrix(4, 8, rng);
  const auto y = m.infer(x);
  const auto yf = m.forward(x);
  for (std::size_t i = 0; i < 4; ++i) {
    pare::Tensor<float, 1> y1({3});
    m.infer(x[i], y1.view());
    for (std::size_t j = 0; j < 3; ++j) {
      REQUIRE(y1[j] == Approx(y(i, j)).epsilon(1e-5).margin(1e-6));
      REQUIRE(yf(i, j) == y(i, j));
    }
  }
  pare::Tensor<float, 1> wrong({4});
  REQUIRE_THROWS_AS(m.infer(x[0], wrong.view()), pare::ShapeError);
}

TEST_CASE("Sequential's input gradient matches finite differences", "[nn][sequential][gradcheck]") {
  pare::Rng rng(4);
  Mlp m(pare::Linear(5, 6, rng), pare::ReLU{}, pare::Linear(6, 3, rng));
  auto x = pare::test::random_matrix(3, 5, rng);
  pare::Tensor<std::int32_t, 1> y({3});
  y[0] = 2;
  y[1] = 0;
  y[2] = 1;
  const auto lg = pare::softmax_cross_entropy(m.forward(x), y);
  m.zero_grad();
  const auto grad_x = m.backward(lg.grad);
  const auto loss = [&] {
    return static_cast<double>(pare::softmax_cross_entropy(m.infer(x), y).loss);
  };
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double fd = pare::test::central_difference(x.data()[i], loss, 1e-3f);
    REQUIRE(grad_x.data()[i] == Approx(fd).margin(1e-3));
  }
  // And wrt the first layer's weights, through ReLU and the second Linear.
  auto& w = m.layer<0>().weight();
  for (std::size_t i = 0; i < w.size(); ++i) {
    const double fd = pare::test::central_difference(w.data()[i], loss, 1e-3f);
    REQUIRE(m.layer<0>().weight_grad().data()[i] == Approx(fd).margin(1e-3));
  }
  m.zero_grad();
  for (const auto& p : m.parameters())
    for (float g : p.grad) REQUIRE(g == 0.0f);
}
