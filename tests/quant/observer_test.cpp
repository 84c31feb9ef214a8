// SPDX-License-Identifier: Apache-2.0
#include "pare/quant/observer.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <vector>

#include "pare/core/random.hpp"
#include "pare/quant.hpp"

namespace {

// numpy.percentile's default ("linear") on a sorted copy: the independent reference.
double percentile_by_sort(std::vector<float> v, double percent) {
  std::sort(v.begin(), v.end());
  const double pos = percent / 100.0 * static_cast<double>(v.size() - 1);
  const auto i = static_cast<std::size_t>(pos);
  if (i + 1 >= v.size()) return v.back();
  return v[i] + (pos - static_cast<double>(i)) * (static_cast<double>(v[i + 1]) - v[i]);
}

}  // namespace

TEST_CASE("Percentile is exact while the data fits", "[quant][observer]") {
  pare::Rng rng(11);
  std::vector<float> all;
  pare::Percentile obs{.lower = 0.5, .upper = 99.0};
  for (int b = 0; b < 5; ++b) {
    std::vector<float> batch(997);
    for (float& v : batch) v = rng.normal() * (1.0f + static_cast<float>(b));
    obs.observe(batch);
    all.insert(all.end(), batch.begin(), batch.end());
  }
  const pare::Range r = obs.range();
  CHECK(r.lo == static_cast<float>(percentile_by_sort(all, 0.5)));
  CHECK(r.hi == static_cast<float>(percentile_by_sort(all, 99.0)));
  // 0 and 100 percent are min and max.
  pare::Percentile full{.lower = 0, .upper = 100};
  full.observe(all);
  CHECK(full.range() == pare::Range{*std::min_element(all.begin(), all.end()),
                                    *std::max_element(all.begin(), all.end())});
}

TEST_CASE("Percentile switches to a doubling histogram within its error bound",
          "[quant][observer]") {
  pare::Rng rng(12);
  std::vector<float> all;
  pare::Percentile obs{.lower = 0.1, .upper = 99.9, .exact_limit = 3000};
  // Growing spread and a drifting mean: the window has to double both ways, several times.
  for (int b = 0; b < 40; ++b) {
    std::vector<float> batch(1000);
    const float scale = 0.2f * static_cast<float>(1 + b),
                shift = 0.3f * static_cast<float>(b % 7) - 1;
    for (float& v : batch) v = shift + scale * rng.normal();
    obs.observe(batch);
    all.insert(all.end(), batch.begin(), batch.end());
  }
  REQUIRE_FALSE(obs.state_.histogram.empty());
  REQUIRE(obs.state_.values.empty());
  const auto [mn, mx] = std::minmax_element(all.begin(), all.end());
  const double bound = 2.0 * (*mx - *mn) / 4096.0;
  CHECK(obs.state_.histogram.bin_width() <= bound);
  const pare::Range r = obs.range();
  CHECK(std::abs(r.lo - percentile_by_sort(all, 0.1)) <= bound);
  CHECK(std::abs(r.hi - percentile_by_sort(all, 99.9)) <= bound);
  CHECK(obs.state_.histogram.total() == Approx(40000.0));
}

TEST_CASE("Percentile clips outliers that MinMax keeps", "[quant][observer]") {
  pare::Rng rng(13);
  std::vector<float> x(20000);
  for (float& v : x) v = rng.normal();
  x[7] = 80.0f;
  x[9] = -55.0f;
  pare::Percentile p;
  p.observe(x);
  pare::MinMax m;
  m.observe(x);
  CHECK(m.range() == pare::Range{-55.0f, 80.0f});
  CHECK(p.range().hi < 4.5f);
  CHECK(p.range().lo > -4.5f);
  // Through the quantizer: int8 per tensor, far finer steps for the bulk of the data.
  pare::TensorView<const float, 2> w(x.data(), {100, 200});
  const auto qp =
      pare::Quantizer<pare::Int<8>, pare::Symmetric, pare::PerTensor, pare::Percentile>{}.calibrate(
          w);
  const auto qm = pare::Quantizer<pare::Int<8>, pare::Symmetric, pare::PerTensor>{}.calibrate(w);
  CHECK(qp[0].scale * 10 < qm[0].scale);
}

TEST_CASE("New observers skip NaNs and report infinities", "[quant][observer]") {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<float> x{1.0f, nan, -2.0f, 3.0f, nan};
  auto check = [&](auto obs) {
    obs.observe(x);
    const pare::Range r = obs.range();
    CHECK(std::isfinite(r.lo));
    CHECK(std::isfinite(r.hi));
    CHECK(r.lo >= -3.0f);  // Entropy's range is symmetric
    CHECK(r.hi <= 3.0f);
    obs.observe(std::vector<float>{inf});
    CHECK_FALSE(std::isfinite(obs.range().hi));
    decltype(obs) fresh;
    CHECK(fresh.range().empty());
  };
  check(pare::Percentile{});
  check(pare::Histogram{});
  check(pare::Entropy{});
  check(pare::MseSearch{});
  // The quantizer rejects the infinite range, naming the unit.
  pare::Tensor<float, 2> w({2, 8}, 0.5f);
  w(1, 3) = inf;
  using Q = pare::Quantizer<pare::Int<4>, pare::Symmetric, pare::PerChannel, pare::MseSearch>;
  REQUIRE_THROWS_WITH(Q{}.quantize(w.view()), Catch::Contains("unit 1"));
}
