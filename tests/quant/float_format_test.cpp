// SPDX-License-Identifier: Apache-2.0
// Floating-point formats (quant/float_format.hpp) against PyTorch casts and an independent fp8
// enumeration (tests/data/quant/make_float_format_refs.py).
#include <catch2/catch.hpp>
#include <string>

#include "pare/core/random.hpp"
#include "pare/quant/float_format.hpp"
#include "pare/quant/quantizer.hpp"
#include "quant/reference_file.hpp"

namespace {

const std::vector<pare::test::Record>& float_refs() {
  static const auto r =
      pare::test::read_records(std::string(PARE_TEST_DATA_DIR) + "/quant/float_format.txt");
  return r;
}

pare::Tensor<float, 2> ref_weights() {
  const auto rec = pare::test::with_key(float_refs(), "w").at(0);
  pare::Tensor<float, 2> w({std::stoul(rec.tokens.at(0)), std::stoul(rec.tokens.at(1))});
  const auto v = rec.floats(2);
  std::copy(v.begin(), v.end(), w.data());
  return w;
}

template <class Q>
void check_against(const Q& quantizer, const std::string& key, float rel) {
  const auto w = ref_weights();
  const auto ref = pare::test::with_key(float_refs(), key).at(0).floats();
  const auto d = pare::dequantize(quantizer.quantize(w.view()));
  REQUIRE(ref.size() == d.size());
  for (std::size_t i = 0; i < ref.size(); ++i) {
    INFO(key << " element " << i << " w = " << w.data()[i]);
    CHECK(d.data()[i] == Approx(ref[i]).epsilon(rel).margin(1e-30));
  }
}

}  // namespace

TEST_CASE("f16 and bf16 casts match PyTorch", "[quant][float_format]") {
  check_against(pare::FloatQuantizer<pare::F16>{.scaled = false}, "f16", 0.0f);
  check_against(pare::FloatQuantizer<pare::BF16>{.scaled = false}, "bf16", 0.0f);
  const auto q = pare::FloatQuantizer<pare::F16>{.scaled = false}.quantize(ref_weights().view());
  CHECK(q.bits_per_weight() == 16.0);
}

TEST_CASE("per-channel scaled fp8 matches the OFP8 reference", "[quant][float_format]") {
  // Scaling happens in f32 on both sides; the product code * scale may differ in the last bit.
  check_against(pare::FloatQuantizer<pare::Fp8E4M3, pare::PerChannel>{}, "e4m3", 1e-6f);
  check_against(pare::FloatQuantizer<pare::Fp8E5M2, pare::PerChannel>{}, "e5m2", 1e-6f);
  const auto q = pare::FloatQuantizer<pare::Fp8E4M3>{}.quantize(ref_weights().view());
  CHECK(q.bits_per_weight() == Approx(8.0 + 32.0 / 40.0));
}

TEST_CASE("fp8 accuracy per bit on Gaussian weights", "[quant][float_format]") {
  pare::Rng rng(5);
  pare::Tensor<float, 2> w({64, 256});
  for (float& v : w.span()) v = rng.normal();
  const double e4m3 = pare::sqnr_db(
      w.view(), pare::dequantize(pare::FloatQuantizer<pare::Fp8E4M3>{}.quantize(w.view())).view());
  const double e5m2 = pare::sqnr_db(
      w.view(), pare::dequantize(pare::FloatQuantizer<pare::Fp8E5M2>{}.quantize(w.view())).view());
  const double pt = pare::sqnr_db(
      w.view(),
      pare::dequantize(pare::FloatQuantizer<pare::Fp8E4M3, pare::PerTensor>{}.quantize(w.view()))
          .view());
  INFO("e4m3 " << e4m3 << " dB, e5m2 " << e5m2 << " dB, e4m3 per tensor " << pt << " dB");
  CHECK(e4m3 > 29.0);  // 3 mantissa bits: ~31 dB, nearly independent of scale
  CHECK(e5m2 > 23.0);
  CHECK(e4m3 > e5m2 + 4.0);
  pare::Tensor<float, 2> bad({1, 4}, 1.0f);
  bad(0, 2) = std::numeric_limits<float>::infinity();
  REQUIRE_THROWS_AS(pare::FloatQuantizer<pare::Fp8E4M3>{}.quantize(bad.view()),
                    pare::ArgumentError);
}
