// SPDX-License-Identifier: Apache-2.0
#include "pare/quant/histogram_observer.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "pare/core/random.hpp"
#include "pare/quant.hpp"
#include "quant/reference_file.hpp"

namespace {

const std::string data_dir = std::string(PARE_TEST_DATA_DIR) + "/quant/";

struct HistogramCase {
  std::vector<std::vector<float>> batches;
  pare::Range hist_range;
  std::vector<float> counts;
  std::size_t dst_nbins = 0;
  pare::Range search;
};

std::map<std::string, HistogramCase> histogram_cases() {
  std::map<std::string, HistogramCase> out;
  for (const auto& r : pare::test::read_records(data_dir + "histogram.txt")) {
    auto& c = out[r.tokens.at(0)];
    if (r.key == "batch") {
      std::vector<float> b;
      for (std::size_t i = 1; i < r.tokens.size(); ++i)
        b.push_back(std::stof(r.tokens[i]) / 4096.0f);
      c.batches.push_back(std::move(b));
    } else if (r.key == "hist_range") {
      c.hist_range = {std::stof(r.tokens[1]), std::stof(r.tokens[2])};
    } else if (r.key == "hist") {
      c.counts = r.floats(1);
    } else if (r.key == "search") {
      c.dst_nbins = std::stoul(r.tokens[1]);
      c.search = {std::stof(r.tokens[2]), std::stof(r.tokens[3])};
    }
  }
  return out;
}

std::vector<float> laplace(std::size_t n, pare::Rng& rng) {
  std::vector<float> x(n);
  for (float& v : x) {
    const double u = rng.uniform() - 0.5;
    v = static_cast<float>(-(u < 0 ? -1 : 1) * std::log1p(-2 * std::abs(u)));
  }
  return x;
}

}  // namespace

TEST_CASE("Histogram matches torch's HistogramObserver", "[quant][observer][reference]") {
  const auto cases = histogram_cases();
  REQUIRE(cases.size() == 6);
  for (const auto& [tag, c] : cases) {
    INFO(tag);
    pare::Histogram obs;
    for (const auto& b : c.batches) obs.observe(b);
    // Same histogram range bit for bit (float32 _adjust_min_max), same counts up to the float
    // rounding of the upsample/downsample integral.
    CHECK(obs.histogram_range() == c.hist_range);
    const auto counts = obs.counts();
    REQUIRE(counts.size() == c.counts.size());
    double max_diff = 0, mass = 0, torch_mass = 0;
    for (std::size_t i = 0; i < counts.size(); ++i) {
      max_diff = std::max(max_diff, std::abs(static_cast<double>(counts[i]) - c.counts[i]));
      mass += counts[i];
      torch_mass += c.counts[i];
    }
    CHECK(max_diff <= 1e-3);
    CHECK(mass == Approx(torch_mass).epsilon(1e-6));
    // The searched range: the same bins (both ends are bin edges, so any disagreement would be
    // at least a bin width; allow none).
    const auto r = obs.range(pare::Affine{}, {0, static_cast<int>(c.dst_nbins) - 1});
    const float bin = (c.hist_range.hi - c.hist_range.lo) / 2048.0f;
    CHECK(std::abs(r.lo - c.search.lo) <= 1e-3f * bin);
    CHECK(std::abs(r.hi - c.search.hi) <= 1e-3f * bin);
    if (c.dst_nbins == 256) CHECK(obs.range() == r);
  }
}

TEST_CASE("Histogram plugs into the Quantizer as a grid-aware observer", "[quant][observer]") {
  pare::Rng rng(3);
  auto x = laplace(8192, rng);
  x[5] = 40.0f;
  pare::TensorView<const float, 2> w(x.data(), {64, 128});
  pare::Histogram h;
  h.observe(x);
  using Q8 = pare::Quantizer<pare::UInt<8>, pare::Affine, pare::PerTensor, pare::Histogram>;
  const auto p8 = Q8{}.calibrate(w);
  CHECK(p8[0] == pare::Affine{}.params(h.range(), {0, 255}));
  using Q4 = pare::Quantizer<pare::UInt<4>, pare::Affine, pare::PerTensor, pare::Histogram>;
  const auto p4 = Q4{}.calibrate(w);
  CHECK(p4[0] == pare::Affine{}.params(h.range(pare::Affine{}, {0, 15}), {0, 15}));
  // With 16 codes the L2 search clips the lone outlier; with 256 it is worth keeping longer.
  CHECK(h.range(pare::Affine{}, {0, 15}).hi < 20.0f);
  CHECK(h.range(pare::Affine{}, {0, 15}).hi <= h.range().hi);
}

TEST_CASE("Entropy's KL divergence matches the MXNet/TensorRT reference exactly",
          "[quant][observer][reference]") {
  const auto recs = pare::test::read_records(data_dir + "entropy.txt");
  const auto hf = pare::test::with_key(recs, "kl_hist").at(0).floats();
  const std::vector<double> hist(hf.begin(), hf.end());
  const auto kls = pare::test::with_key(recs, "kl");
  REQUIRE(kls.size() == 6);
  for (const auto& k : kls) {
    const std::size_t i = std::stoul(k.tokens[0]), levels = std::stoul(k.tokens[1]);
    INFO("i = " << i << ", levels = " << levels);
    CHECK(pare::Entropy::clip_divergence(hist, i, levels) ==
          Approx(std::stod(k.tokens[2])).epsilon(1e-12));
  }
  // KL by hand: P = (1/2, 1/2), Q = (1/4, 3/4).
  const std::vector<double> p{1, 1}, q{1, 3};
  CHECK(pare::Entropy::kl_divergence(p, q) ==
        Approx(0.5 * std::log(2.0) + 0.5 * std::log(2.0 / 3.0)).epsilon(1e-15));
  CHECK(pare::Entropy::kl_divergence(p, p) == 0.0);
  CHECK(std::isinf(pare::Entropy::kl_divergence(p, std::vector<double>{1, 0})));
  // Smoothing: two zeros of four get 1e-4 each, paid by the two non-zeros.
  std::vector<double> d{0, 3, 0, 1};
  REQUIRE(pare::Entropy::smooth(d));
  CHECK(d == std::vector<double>{1e-4, 3 - 1e-4, 1e-4, 1 - 1e-4});
  // A histogram that fits the levels exactly loses nothing: KL 0 at i = levels.
  const std::vector<double> flat(16, 5.0);
  CHECK(pare::Entropy::clip_divergence(flat, 16, 16) == Approx(0.0).margin(1e-15));
}

TEST_CASE("Entropy clips a Laplace tail and keeps a uniform range", "[quant][observer]") {
  pare::Rng rng(21);
  // Laplace(0, 1) over 4 batches, 20 outliers at 30..60 in one of them.
  pare::Entropy lap;
  pare::MinMax mm;
  pare::Histogram l2;
  for (int b = 0; b < 4; ++b) {
    auto x = laplace(50000, rng);
    if (b == 1)
      for (std::size_t k = 0; k < 20; ++k) x[k * 97] = (k % 2 ? -1.0f : 1.0f) * rng.uniform(30, 60);
    lap.observe(x);
    mm.observe(x);
    l2.observe(x);
  }
  const pare::Range rl = lap.range();
  INFO("entropy " << rl.hi << ", min-max " << mm.range().hi << ", L2 histogram " << l2.range().hi);
  CHECK(rl.lo == -rl.hi);
  CHECK(rl.hi < 0.3f * mm.range().hi);  // clips the outliers (MinMax keeps them)
  CHECK(rl.hi < 0.5f * l2.range().hi);  // harder than the L2 search
  CHECK(rl.hi > 6.9f);                  // but keeps 99.9 % of |x| (below ln 1000 = 6.9)
  // Without outliers it still clips the exponential tail of |x|.
  pare::Entropy pure;
  pare::MinMax pure_mm;
  const auto px = laplace(200000, rng);
  pure.observe(px);
  pure_mm.observe(px);
  CHECK(pure.range().hi < 0.95f * std::max(-pure_mm.range().lo, pure_mm.range().hi));
  // Uniform in [-1, 1]: no tail to clip, the threshold stays at the full range.
  pare::Entropy uni;
  std::vector<float> u(100000);
  for (float& v : u) v = rng.uniform(-1.0f, 1.0f);
  uni.observe(u);
  CHECK(uni.range().hi >= 0.98f);
  CHECK(uni.range().hi <= 1.0f);
  // One-sided data: range starts at 0. An affine scheme then has all 256 levels for [0, t],
  // which can only keep more of the tail than 128 levels.
  pare::Entropy relu;
  std::vector<float> r = laplace(100000, rng);
  for (float& v : r) v = std::abs(v);
  relu.observe(r);
  CHECK(relu.range().lo == 0.0f);
  CHECK(relu.range(pare::Affine{}, {0, 255}).hi >= relu.range().hi);
  // Fewer bits clip harder.
  CHECK(lap.range(pare::Symmetric{}, {-8, 7}).hi < rl.hi);
}

TEST_CASE("Entropy's histogram grows by exact doubling", "[quant][observer]") {
  pare::Entropy e;
  e.observe(std::vector<float>{0.5f, -1.0f});
  REQUIRE(e.state_.histogram.width() == 1.0);
  e.observe(std::vector<float>{3.5f});
  CHECK(e.state_.histogram.width() == 4.0);
  CHECK(e.state_.histogram.total() == 3.0);
  const auto c = e.state_.histogram.counts();
  // 0.5 and 1.0 were in bins 1024 and 2047 of [0, 1]; after two doublings, bins 256 and 511.
  CHECK(c[256] == 1.0);
  CHECK(c[511] == 1.0);
  CHECK(c[1792] == 1.0);
}
