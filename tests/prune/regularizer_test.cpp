// SPDX-License-Identifier: Apache-2.0
// Regularizers: values, gradients (vs finite differences) and proximal maps (vs their closed form
// as the minimiser of ½‖v − w‖² + lr·penalty(v)).
#include <catch2/catch.hpp>
#include <cmath>

#include "pare/core/random.hpp"
#include "pare/prune/regularizer.hpp"

namespace {
pare::Tensor<float, 2> random_matrix(std::size_t r, std::size_t c, std::uint64_t seed) {
  pare::Rng rng(seed);
  pare::Tensor<float, 2> t({r, c});
  for (float& v : t.span()) v = rng.normal();
  return t;
}

template <class R>
void check_gradient(const R& reg, pare::Tensor<float, 2> w) {
  pare::Tensor<float, 2> g(w.extents());
  reg.add_gradient(w, g.view());
  const double h = 1e-3;
  for (std::size_t i = 0; i < w.size(); ++i) {
    const float keep = w.data()[i];
    w.data()[i] = static_cast<float>(keep + h);
    const double up = reg.value(w);
    w.data()[i] = static_cast<float>(keep - h);
    const double down = reg.value(w);
    w.data()[i] = keep;
    CHECK(g.data()[i] == Approx((up - down) / (2 * h)).epsilon(2e-2).margin(1e-4));
  }
}
}  // namespace

TEST_CASE("L1, L2 and group lasso values and gradients", "[prune][regularizer]") {
  const auto w = random_matrix(4, 5, 1);
  double l1 = 0, l2 = 0, rows = 0, cols = 0;
  for (std::size_t r = 0; r < 4; ++r) {
    double n = 0;
    for (std::size_t c = 0; c < 5; ++c) {
      l1 += std::abs(w(r, c));
      l2 += double(w(r, c)) * w(r, c);
      n += double(w(r, c)) * w(r, c);
    }
    rows += std::sqrt(n);
  }
  for (std::size_t c = 0; c < 5; ++c) {
    double n = 0;
    for (std::size_t r = 0; r < 4; ++r) n += double(w(r, c)) * w(r, c);
    cols += std::sqrt(n);
  }
  CHECK(pare::L1Penalty{.strength = 0.5f}.value(w) == Approx(0.5 * l1));
  CHECK(pare::L2Penalty{.strength = 0.5f}.value(w) == Approx(0.25 * l2));
  CHECK(pare::GroupLasso{.strength = 0.5f}.value(w) == Approx(0.5 * rows));
  CHECK(pare::GroupLasso{.strength = 0.5f, .axis = 1}.value(w) == Approx(0.5 * cols));
  check_gradient(pare::L1Penalty{.strength = 0.3f}, w);
  check_gradient(pare::L2Penalty{.strength = 0.3f}, w);
  check_gradient(pare::GroupLasso{.strength = 0.3f}, w);
  check_gradient(pare::GroupLasso{.strength = 0.3f, .axis = 1}, w);
}

TEST_CASE("proximal maps: soft threshold, shrink, group shrink", "[prune][regularizer]") {
  const auto w0 = random_matrix(6, 7, 2);
  {
    auto w = w0;
    pare::L1Penalty{.strength = 0.5f}.proximal(w.view(), 1.0f);
    std::size_t zeros = 0;
    for (std::size_t i = 0; i < w.size(); ++i) {
      const float a = w0.data()[i];
      const float want = std::abs(a) <= 0.5f ? 0.0f : a - std::copysign(0.5f, a);
      CHECK(w.data()[i] == Approx(want));
      zeros += w.data()[i] == 0.0f;
    }
    CHECK(zeros > 0);  // exact zeros, which the subgradient never gives
  }
  {
    auto w = w0;
    pare::L2Penalty{.strength = 0.5f}.proximal(w.view(), 0.2f);
    for (std::size_t i = 0; i < w.size(); ++i) CHECK(w.data()[i] == Approx(w0.data()[i] / 1.1));
  }
  {
    auto w = w0;
    const float t = 2.0f;  // lr·λ: rows with ‖w_r‖ <= 2 vanish, others shrink by t/‖w_r‖
    pare::GroupLasso{.strength = 1.0f}.proximal(w.view(), t);
    std::size_t zero_rows = 0;
    for (std::size_t r = 0; r < 6; ++r) {
      double n = 0;
      for (std::size_t c = 0; c < 7; ++c) n += double(w0(r, c)) * w0(r, c);
      n = std::sqrt(n);
      const double f = std::max(0.0, 1.0 - t / n);
      zero_rows += f == 0.0;
      for (std::size_t c = 0; c < 7; ++c) CHECK(w(r, c) == Approx(w0(r, c) * f).margin(1e-6));
    }
    CHECK(zero_rows > 0);
  }
  CHECK_THROWS_AS(pare::GroupLasso{.axis = 3}.value(w0), pare::ArgumentError);
}
