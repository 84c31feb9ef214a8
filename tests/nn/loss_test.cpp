// SPDX-License-Identifier: Apache-2.0
#include "pare/nn/loss.hpp"

#include <catch2/catch.hpp>
#include <cmath>

#include "nn/test_util.hpp"

namespace {
pare::Tensor<std::int32_t, 1> labels(std::initializer_list<std::int32_t> v) {
  pare::Tensor<std::int32_t, 1> t({v.size()});
  std::size_t i = 0;
  for (auto x : v) t[i++] = x;
  return t;
}
}  // namespace

TEST_CASE("cross-entropy of uniform logits is log C", "[nn][loss]") {
  const pare::Tensor<float, 2> logits({3, 10}, 2.5f);
  auto [loss, grad] = pare::softmax_cross_entropy(logits, labels({0, 4, 9}));
  CHECK(loss == Approx(std::log(10.0)));
  // (softmax − onehot) / N: 0.1/3 off the label, (0.1 − 1)/3 on it.
  CHECK(grad(1, 0) == Approx(0.1f / 3));
  CHECK(grad(1, 4) == Approx(-0.9f / 3));
  for (std::size_t i = 0; i < 3; ++i) {
    double row = 0;
    for (std::size_t j = 0; j < 10; ++j) row += grad(i, j);
    CHECK(row == Approx(0).margin(1e-7));  // each row of the gradient sums to zero
  }
}

TEST_CASE("cross-entropy is stable for large logits", "[nn][loss]") {
  pare::Tensor<float, 2> logits({2, 3});
  // Row 0: the label has a logit 1000 above the rest → loss ≈ 0. Row 1: 1000 below → ≈ 1000.
  logits(0, 0) = 1e3f;
  logits(0, 1) = 0;
  logits(0, 2) = -1e3f;
  logits(1, 0) = 5e4f;
  logits(1, 1) = 4.9e4f;
  logits(1, 2) = 5e4f;
  auto [loss, grad] = pare::softmax_cross_entropy(logits, labels({0, 1}));
  REQUIRE(std::isfinite(loss));
  // Sample 1: log(e^1000 + e^0 + e^1000) − 0 relative to the label's 4.9e4 ≈ 1000 + log 2.
  CHECK(loss == Approx((0.0 + 1000.0 + std::log(2.0)) / 2).epsilon(1e-5));
  for (float g : grad.span()) REQUIRE(std::isfinite(g));
  CHECK(grad(0, 0) == Approx(0).margin(1e-7));
  CHECK(grad(1, 0) == Approx(0.25f));
  CHECK(grad(1, 1) == Approx(-0.5f));
}

TEST_CASE("cross-entropy's gradient matches finite differences", "[nn][loss][gradcheck]") {
  pare::Rng rng(17);
  auto logits = pare::test::random_matrix(5, 7, rng, -3, 3);
  const auto y = labels({0, 6, 3, 3, 1});
  const auto grad = pare::softmax_cross_entropy(logits, y).grad;
  const auto loss = [&] {
    return static_cast<double>(pare::softmax_cross_entropy(logits, y).loss);
  };
  for (std::size_t i = 0; i < logits.size(); ++i) {
    // The loss is rounded to float, so the step must be large enough for its rounding (~1e-7)
    // to stay small next to the difference; curvature error at 1e-2 is ~1e-5.
    const double fd = pare::test::central_difference(logits.data()[i], loss, 1e-2f);
    REQUIRE(grad.data()[i] == Approx(fd).margin(2e-4));
  }
}

TEST_CASE("cross-entropy rejects bad labels and shapes", "[nn][loss]") {
  const pare::Tensor<float, 2> logits({2, 3}, 0.0f);
  REQUIRE_THROWS_AS(pare::softmax_cross_entropy(logits, labels({0, 3})), pare::ArgumentError);
  REQUIRE_THROWS_AS(pare::softmax_cross_entropy(logits, labels({-1, 0})), pare::ArgumentError);
  REQUIRE_THROWS_AS(pare::softmax_cross_entropy(logits, labels({0})), pare::ShapeError);
  REQUIRE_THROWS_AS(pare::softmax_cross_entropy(pare::Tensor<float, 2>({0, 3}), labels({})),
                    pare::ShapeError);
}
