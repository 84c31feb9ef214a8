// SPDX-License-Identifier: Apache-2.0
#include "pare/quant.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <string>

#include "pare/core/random.hpp"
#include "quant/reference_file.hpp"

namespace {

const std::string data_dir = std::string(PARE_TEST_DATA_DIR) + "/quant/";

template <class Q>
pare::Tensor<float, 2> round_trip(const Q& q, pare::TensorView<const float, 2> w) {
  return pare::dequantize(q.quantize(w));
}

pare::Tensor<float, 2> gaussian(std::size_t rows, std::size_t cols, std::uint64_t seed) {
  pare::Rng rng(seed);
  pare::Tensor<float, 2> w({rows, cols});
  for (float& v : w.span()) v = rng.normal();
  return w;
}

pare::CodeRange codes_of(const pare::test::Record& r) {
  return {std::stoi(r.tokens[1]), std::stoi(r.tokens[2])};
}

}  // namespace

TEST_CASE("MinMax + scheme give PyTorch's scale and zero point, fake quantization its values",
          "[quant][reference]") {
  const auto recs = pare::test::read_records(data_dir + "per_tensor.txt");
  const auto x = pare::test::with_key(recs, "x").at(0).floats();
  const auto fqs = pare::test::with_key(recs, "fq");
  const auto mms = pare::test::with_key(recs, "minmax");
  REQUIRE(mms.size() == 7);
  pare::MinMax obs;
  obs.observe(x);
  const pare::Range range = obs.range();
  for (std::size_t i = 0; i < mms.size(); ++i) {
    const auto& m = mms[i];
    const std::string tag = m.tokens[0];
    INFO(tag);
    const pare::CodeRange codes = codes_of(m);
    const bool symmetric = tag.find("symmetric") != std::string::npos;
    const pare::QuantParams p =
        symmetric ? pare::Symmetric{}.params(range, codes) : pare::Affine{}.params(range, codes);
    CHECK(p.scale == std::stof(m.tokens[3]));  // bit-exact: same float32 arithmetic
    CHECK(p.zero_point == std::stoi(m.tokens[4]));
    REQUIRE(fqs[i].tokens[0] == tag);
    const auto expected = fqs[i].floats(1);
    pare::TensorView<const float, 1> xv(x.data(), {x.size()});
    const auto y = pare::fake_quantize(xv, p, codes);
    std::size_t mismatches = 0;
    for (std::size_t k = 0; k < x.size(); ++k) mismatches += y(k) != expected[k];
    CHECK(mismatches == 0);
  }
}

TEST_CASE("MovingAverageMinMax follows PyTorch over several batches", "[quant][reference]") {
  const auto recs = pare::test::read_records(data_dir + "moving_average.txt");
  pare::MovingAverageMinMax obs(0.01f);
  for (const auto& b : pare::test::with_key(recs, "batch")) obs.observe(b.floats());
  const auto range = pare::test::with_key(recs, "range").at(0).floats();
  CHECK(obs.range().lo == Approx(range[0]).epsilon(1e-6));
  CHECK(obs.range().hi == Approx(range[1]).epsilon(1e-6));
  const auto q = pare::test::with_key(recs, "qparams").at(0);
  const auto p = pare::Affine{}.params(obs.range(), pare::code_range_of<pare::UInt<8>>);
  CHECK(p.scale == Approx(std::stof(q.tokens[0])).epsilon(1e-6));
  CHECK(p.zero_point == std::stoi(q.tokens[1]));
}

TEST_CASE("Per-channel symmetric int8 matches torch.fake_quantize_per_channel_affine",
          "[quant][reference]") {
  const auto recs = pare::test::read_records(data_dir + "per_channel.txt");
  const auto wv = pare::test::with_key(recs, "w").at(0).floats();
  pare::TensorView<const float, 2> w(wv.data(), {16, 40});
  using Q = pare::Quantizer<pare::Int<8>, pare::Symmetric, pare::PerChannel>;
  const auto q = Q{}.quantize(w);
  const auto scales = pare::test::with_key(recs, "scales").at(0).floats();
  REQUIRE(q.unit_count() == 16);
  for (std::size_t c = 0; c < 16; ++c) {
    CHECK(q.params(c).scale == scales[c]);
    CHECK(q.params(c).zero_point == 0);
  }
  const auto expected = pare::test::with_key(recs, "fq").at(0).floats();
  const auto y = pare::dequantize(q);
  std::size_t mismatches = 0;
  for (std::size_t i = 0; i < expected.size(); ++i) mismatches += y.data()[i] != expected[i];
  CHECK(mismatches == 0);
  CHECK(q.size_bytes() == 16 * 40 + 16 * 4);  // int8 codes + f32 scales, no zero points
}

TEMPLATE_TEST_CASE("Round trip error is at most half a step", "[quant]", pare::Int<8>,
                   pare::UInt<8>, pare::Int<4>, pare::UInt<4>, pare::Int<2>) {
  const auto w = gaussian(37, 64, 99);
  auto check = [&](const auto& quantizer) {
    const auto q = quantizer.quantize(w.view());
    for (std::size_t r = 0; r < w.extent(0); ++r)
      for (std::size_t c = 0; c < w.extent(1); ++c) {
        const auto p = q.params(quantizer.granularity.unit_of(w.extents(), r, c));
        // Inside the clipping range the error is at most half a step (plus float rounding).
        REQUIRE(std::abs(q.value(r, c) - w(r, c)) <= p.scale * 0.5f * (1 + 1e-5f) + 1e-7f);
      }
  };
  // Affine covers [min, max] exactly, so nothing is clipped for any format and granularity.
  check(pare::Quantizer<TestType, pare::Affine, pare::PerTensor>{});
  check(pare::Quantizer<TestType, pare::Affine, pare::PerChannel>{});
  check(pare::Quantizer<TestType, pare::Affine, pare::PerGroup<16>>{});
}

TEST_CASE("Finer granularity and more bits give higher SQNR", "[quant]") {
  const auto w = gaussian(64, 256, 5);
  using namespace pare;
  const double t8 =
      sqnr_db(w.view(), round_trip(Quantizer<Int<8>, Symmetric, PerTensor>{}, w).view());
  const double c8 =
      sqnr_db(w.view(), round_trip(Quantizer<Int<8>, Symmetric, PerChannel>{}, w).view());
  const double c4 =
      sqnr_db(w.view(), round_trip(Quantizer<Int<4>, Symmetric, PerChannel>{}, w).view());
  const double g4 =
      sqnr_db(w.view(), round_trip(Quantizer<Int<4>, Symmetric, PerGroup<32>>{}, w).view());
  const double a4 =
      sqnr_db(w.view(), round_trip(Quantizer<Int<4>, Affine, PerGroup<32>>{}, w).view());
  CHECK(c8 > t8);
  CHECK(g4 > c4);
  CHECK(a4 > g4);
  CHECK(c8 > c4 + 20);  // 4 more bits is ~24 dB
  // Absmax int4 with groups of 32 on N(0, 1): the issue measured 20.3 dB for this configuration.
  CHECK(g4 == Approx(20.3).margin(0.6));
}

TEST_CASE("Packed 4-bit storage is half a byte a weight", "[quant]") {
  const auto w = gaussian(8, 64, 3);
  const auto q =
      pare::Quantizer<pare::Int<4>, pare::Symmetric, pare::PerGroup<32>>{}.quantize(w.view());
  REQUIRE(q.codes().extents() == pare::Shape<2>{8, 32});
  CHECK(q.size_bytes() == 8 * 32 + 16 * 4);
  CHECK(q.bits_per_weight() == Approx(5.0));  // 4 bits + a 32-bit scale per 32 weights
  const auto qa =
      pare::Quantizer<pare::UInt<4>, pare::Affine, pare::PerGroup<32>>{}.quantize(w.view());
  CHECK(qa.bits_per_weight() == Approx(4 + 32.0 / 32 + 4.0 / 32));
  // Codes read back through the packed bytes equal a scalar recomputation.
  for (std::size_t r = 0; r < 8; ++r)
    for (std::size_t c = 0; c < 64; ++c) {
      const auto p = q.params(r * 2 + c / 32);
      const int expect = pare::quantize_value(w(r, c), 1.0f / p.scale, 0, {-8, 7});
      REQUIRE(q.code(r, c) == expect);
    }
}

TEST_CASE("Restricted range and power-of-two scales", "[quant]") {
  const pare::Range r{-2.0f, 1.0f};
  const auto p = pare::Symmetric{.restricted_range = true}.params(r, {-128, 127});
  CHECK(p.scale == 2.0f / 127.0f);
  CHECK(pare::Symmetric{.restricted_range = true}.code_range({-128, 127}) ==
        pare::CodeRange{-127, 127});
  const auto p2 = pare::Symmetric{.power_of_two = true}.params(r, {-128, 127});
  CHECK(p2.scale == 1.0f / 32.0f);  // 2 / 127.5 = 0.01569 > 2^-6 = 0.01563, so up to 2^-5
  const auto pa = pare::Affine{.power_of_two = true}.params({0.0f, 1.0f}, {0, 255});
  CHECK(pa.scale == 1.0f / 128.0f);
  CHECK(pa.zero_point == 0);
}

TEST_CASE("Quantizer rejects shapes and values it cannot represent", "[quant]") {
  pare::Tensor<float, 2> w({4, 48}, 1.0f);
  using G32 = pare::Quantizer<pare::Int<4>, pare::Symmetric, pare::PerGroup<32>>;
  REQUIRE_THROWS_AS(G32{}.quantize(w.view()), pare::ArgumentError);
  REQUIRE_THROWS_WITH(G32{}.quantize(w.view()), Catch::Contains("[4, 48]"));
  w(2, 5) = std::numeric_limits<float>::infinity();
  using C8 = pare::Quantizer<pare::Int<8>, pare::Symmetric, pare::PerChannel>;
  REQUIRE_THROWS_WITH(C8{}.quantize(w.view()), Catch::Contains("unit 2"));
  // NaNs are skipped by the observer and quantize to the zero point, not to garbage.
  w(2, 5) = std::numeric_limits<float>::quiet_NaN();
  const auto q = C8{}.quantize(w.view());
  CHECK(q.code(2, 5) == 0);
  CHECK(q.code(2, 4) == 127);
  // An all-zero unit gets the smallest scale, and zero codes.
  pare::Tensor<float, 2> z({2, 8});
  const auto qz = C8{}.quantize(z.view());
  CHECK(qz.params(0).scale == std::numeric_limits<float>::epsilon());
  CHECK(qz.code(1, 7) == 0);
}

TEST_CASE("PerChannel along axis 1 quantizes columns", "[quant]") {
  auto w = gaussian(10, 6, 8);
  for (std::size_t r = 0; r < 10; ++r) w(r, 3) *= 100.0f;  // one loud column
  const pare::Quantizer<pare::Int<8>, pare::Symmetric, pare::PerChannel> q{
      .granularity = {.axis = 1}};
  const auto qw = q.quantize(w.view());
  REQUIRE(qw.unit_count() == 6);
  CHECK(qw.params(3).scale > 50 * qw.params(0).scale);
  // Quiet columns keep their precision despite the loud one.
  for (std::size_t r = 0; r < 10; ++r)
    CHECK(std::abs(qw.value(r, 0) - w(r, 0)) <= qw.params(0).scale);
}
