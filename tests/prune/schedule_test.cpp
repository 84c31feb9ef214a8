// SPDX-License-Identifier: Apache-2.0
// Schedules against their published formulas (Zhu & Gupta's from make_prune_refs.py, too).
#include <catch2/catch.hpp>
#include <cmath>

#include "pare/prune/schedule.hpp"
#include "prune_test_util.hpp"

TEST_CASE("Polynomial matches Zhu & Gupta's formula", "[prune][schedule]") {
  const pare::Polynomial s{
      .initial = 0.1, .final = 0.85, .begin = 100, .end = 500, .frequency = 50};
  const auto& steps = pare::test::prune_ref("poly.steps").values;
  const auto& want = pare::test::prune_ref("poly.sparsity").values;
  REQUIRE(steps.size() == want.size());
  for (std::size_t i = 0; i < steps.size(); ++i) {
    INFO("step " << steps[i]);
    CHECK(s.sparsity(static_cast<std::size_t>(steps[i])) == Approx(want[i]).margin(1e-12));
  }
  // Directly at every pruning step t = t0 + kΔt: s_f + (s_i − s_f)(1 − kΔt/(nΔt))³.
  for (std::size_t k = 0; k <= 8; ++k) {
    const std::size_t t = 100 + 50 * k;
    CHECK(s.prunes_at(t));
    const double r = 1.0 - static_cast<double>(k) / 8.0;
    CHECK(s.sparsity(t) == Approx(0.85 + (0.1 - 0.85) * r * r * r).margin(1e-12));
    CHECK_FALSE(s.prunes_at(t + 1));
  }
  CHECK_FALSE(s.prunes_at(99));
  CHECK_FALSE(s.prunes_at(550));
  // `end` is a pruning step even off the frequency grid, and reaches s_f there.
  const pare::Polynomial odd{.initial = 0.0, .final = 0.8, .begin = 0, .end = 130, .frequency = 50};
  CHECK(odd.prunes_at(130));
  CHECK(odd.sparsity(129) == Approx(0.8 - 0.8 * std::pow(1.0 - 100.0 / 130.0, 3)));
  CHECK(odd.sparsity(130) == 0.8);
  const pare::Polynomial bad{.initial = 0.5, .final = 0.2};
  CHECK_THROWS_AS(bad.sparsity(3), pare::ArgumentError);
  const pare::Polynomial zero_freq{.frequency = 0};
  CHECK_THROWS_AS(zero_freq.prunes_at(3), pare::ArgumentError);
}

TEST_CASE("OneShot and Iterative", "[prune][schedule]") {
  const pare::OneShot o{.target = 0.7, .step = 10};
  CHECK(o.sparsity(9) == 0.0);
  CHECK(o.sparsity(10) == 0.7);
  CHECK(o.prunes_at(10));
  CHECK_FALSE(o.prunes_at(11));
  const pare::Iterative it{.final = 0.9, .cycles = 3, .steps_per_cycle = 100};
  CHECK(it.prunes_at(0));
  CHECK(it.prunes_at(200));
  CHECK_FALSE(it.prunes_at(300));
  CHECK_FALSE(it.prunes_at(150));
  // Each cycle keeps the same fraction (0.1^(1/3)) of what is left.
  CHECK(it.sparsity(0) == Approx(1 - std::pow(0.1, 1.0 / 3)));
  CHECK(it.sparsity(150) == Approx(1 - std::pow(0.1, 2.0 / 3)));
  CHECK(it.sparsity(250) == Approx(0.9));
  CHECK(it.sparsity(10000) == Approx(0.9));
}
