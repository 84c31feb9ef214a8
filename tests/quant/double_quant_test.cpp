// SPDX-License-Identifier: Apache-2.0
// Double quantization of group scales (quant/double_quant.hpp).
#include <catch2/catch.hpp>
#include <cmath>

#include "pare/core/random.hpp"
#include "pare/kernels/gemv_lut4.hpp"
#include "pare/quant/double_quant.hpp"
#include "pare/quant/quantizer.hpp"

TEST_CASE("double-quantized scales are within half a step", "[quant][double_quant]") {
  pare::Rng rng(6);
  std::vector<float> s(1000);
  for (float& v : s) v = 0.5f + std::abs(rng.normal());
  const auto dq = pare::double_quantize_scales(s, 256);
  REQUIRE(dq.steps.size() == 4);  // 256, 256, 256, 232
  CHECK(dq.size_bytes() == 1000 + 4 * 8);
  const auto back = pare::dequantize(dq);
  for (std::size_t i = 0; i < s.size(); ++i)
    CHECK(std::abs(back[i] - s[i]) <= dq.steps[i / 256] * 0.5f * 1.0001f);
  // A constant super-group is exact.
  const std::vector<float> same(10, 0.25f);
  for (float v : pare::dequantize(pare::double_quantize_scales(same))) CHECK(v == 0.25f);
  REQUIRE_THROWS_AS(pare::double_quantize_scales(s, 0), pare::ArgumentError);
}

TEST_CASE("NF4 with double quantization: QLoRA's 4.127 bits, almost no loss",
          "[quant][double_quant][nf4]") {
  pare::Rng rng(7);
  pare::Tensor<float, 2> w({128, 512});
  for (float& v : w.span()) v = rng.normal();
  const auto plain = pare::pack_nf4(w.view(), 64);
  const auto dq = pare::pack_nf4_double_quant(w.view(), 64);
  CHECK(plain.bits_per_weight() == Approx(4.5));
  CHECK(dq.bits_per_weight() == Approx(4.0 + 8.0 / 64 + 64.0 / (64 * 256)).epsilon(1e-3));
  const double s_plain = pare::sqnr_db(w.view(), pare::dequantize(plain).view());
  const double s_dq = pare::sqnr_db(w.view(), pare::dequantize(dq.matrix).view());
  INFO("NF4 g64: " << s_plain << " dB, with double quant " << s_dq << " dB");
  CHECK(s_dq > s_plain - 0.1);
  // The kernel runs the decoded scales.
  pare::Tensor<float, 1> x({512}), y({128}), yr({128});
  for (float& v : x.span()) v = rng.normal();
  pare::gemv(dq.matrix, x.view(), y.view());
  pare::kernels::gemv_lut4_reference(dq.matrix, x.data(), yr.data());
  for (std::size_t r = 0; r < 128; ++r) CHECK(y(r) == Approx(yr(r)).margin(1e-3));
}
