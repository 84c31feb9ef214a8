// SPDX-License-Identifier: Apache-2.0
// Sgd and Adam by hand-computed steps (PyTorch agreement is in reference_test.cpp).
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "pare/nn/adam.hpp"
#include "pare/nn/concepts.hpp"
#include "pare/nn/sgd.hpp"

static_assert(pare::Optimizer<pare::Sgd>);
static_assert(pare::Optimizer<pare::Adam>);

TEST_CASE("Sgd without momentum is p -= lr · (g + wd · p)", "[nn][optim]") {
  std::vector<float> p{1.0f, -2.0f}, g{0.5f, 0.25f};
  const std::vector<pare::Parameter> ps{{p, g}};
  pare::Sgd opt{.lr = 0.1f, .weight_decay = 0.5f};
  opt.step(ps);
  CHECK(p[0] == Approx(1.0f - 0.1f * (0.5f + 0.5f)));
  CHECK(p[1] == Approx(-2.0f - 0.1f * (0.25f - 1.0f)));
}

TEST_CASE("Sgd's momentum buffer starts at the gradient and decays", "[nn][optim]") {
  std::vector<float> p{0.0f}, g{1.0f};
  const std::vector<pare::Parameter> ps{{p, g}};
  pare::Sgd opt{.lr = 1.0f, .momentum = 0.5f};
  opt.step(ps);  // b = 1
  CHECK(p[0] == -1.0f);
  opt.step(ps);  // b = 0.5 + 1
  CHECK(p[0] == -2.5f);
  opt.step(ps);  // b = 0.75 + 1
  CHECK(p[0] == -4.25f);
  opt.reset();
  opt.step(ps);  // fresh buffer
  CHECK(p[0] == -5.25f);
  const std::vector<pare::Parameter> two{{p, g}, {p, g}};
  REQUIRE_THROWS_AS(opt.step(two), pare::ArgumentError);
}

TEST_CASE("Adam's first step moves each parameter by lr against the gradient's sign",
          "[nn][optim]") {
  // With bias correction, step 1 is lr · g / (|g| + eps') ≈ lr · sign(g), whatever |g| is.
  std::vector<float> p{1.0f, 1.0f, 1.0f}, g{1e-3f, -4.0f, 100.0f};
  const std::vector<pare::Parameter> ps{{p, g}};
  pare::Adam opt{.lr = 0.01f};
  opt.step(ps);
  CHECK(p[0] == Approx(0.99f).epsilon(1e-5));
  CHECK(p[1] == Approx(1.01f).epsilon(1e-6));
  CHECK(p[2] == Approx(0.99f).epsilon(1e-6));
  CHECK(opt.steps() == 1);
  // A constant gradient keeps m̂ = g and v̂ = g², so every step is the same size.
  opt.step(ps);
  CHECK(p[1] == Approx(1.02f).epsilon(1e-6));
  std::vector<float> q{0.0f}, h{0.0f, 1.0f};
  const std::vector<pare::Parameter> bad{{q, h}};
  pare::Adam fresh;
  REQUIRE_THROWS_AS(fresh.step(bad), pare::ArgumentError);
}
