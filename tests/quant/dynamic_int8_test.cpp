// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <vector>

#include "pare/core/random.hpp"
#include "pare/quant/dynamic.hpp"
#include "pare/quant/dynamic_kernels.hpp"

namespace {
const std::vector<std::size_t> sizes = {0, 1, 2, 3, 7, 15, 16, 17, 31, 33, 63, 64, 65, 127, 1000};
}

TEST_CASE("choose_u8_params: fbgemm's choice on edge cases", "[quant][int8]") {
  // Ranges always include 0, and 0 is exactly representable.
  const pare::QuantParams p = pare::choose_u8_params(-1.0f, 3.0f);
  CHECK(p.scale == static_cast<float>(4.0 / 255));
  CHECK(p.zero_point == 64);  // 1 / (4 / 255) = 63.75
  CHECK(pare::choose_u8_params(2.0f, 5.0f).zero_point == 0);
  CHECK(pare::choose_u8_params(-5.0f, -2.0f).zero_point == 255);
  CHECK(pare::choose_u8_params(0.0f, 0.0f) == pare::QuantParams{0.1f, 0});
  const pare::QuantParams tiny = pare::choose_u8_params(-1e-7f, 1e-7f);
  CHECK(tiny.scale == 6.1e-5f);
  CHECK(tiny.zero_point == 128);
  CHECK(pare::choose_s8_scale(127.0f) == 1.0f);
  CHECK(pare::choose_s8_scale(0.0f) == 1.0f);
}

TEST_CASE(
    "dynamic per-row quantization: SIMD equals the scalar reference and rounds within half a "
    "step",
    "[quant][int8]") {
  pare::Rng rng(9);
  for (std::size_t cols : sizes) {
    const std::size_t rows = 3, ld = cols + 5;
    std::vector<float> x(rows * ld);
    for (auto& v : x) v = 3.0f * rng.normal() + 0.5f;
    for (std::size_t c = 0; c < cols; ++c) x[2 * ld + c] = std::abs(x[2 * ld + c]);  // ReLU-like
    INFO("cols " << cols);
    std::vector<std::uint8_t> qu(rows * cols), qu_ref(rows * cols);
    std::vector<float> su(rows), su_ref(rows);
    std::vector<std::int32_t> zu(rows), zu_ref(rows);
    pare::quantize_rows_u8(x.data(), rows, cols, ld, qu.data(), cols, su.data(), zu.data());
    pare::quantize_rows_u8(x.data(), rows, cols, ld, qu_ref.data(), cols, su_ref.data(),
                           zu_ref.data(), true);
    CHECK(qu == qu_ref);
    CHECK(su == su_ref);
    CHECK(zu == zu_ref);
    std::vector<std::int8_t> qs(rows * cols), qs_ref(rows * cols);
    std::vector<float> ss(rows), ss_ref(rows);
    pare::quantize_rows_s8(x.data(), rows, cols, ld, qs.data(), cols, ss.data());
    pare::quantize_rows_s8(x.data(), rows, cols, ld, qs_ref.data(), cols, ss_ref.data(), true);
    CHECK(qs == qs_ref);
    CHECK(ss == ss_ref);
    // Every value lies inside its row's range, so it dequantizes within half a step (plus the
    // rounding of x * (1 / scale)).
    for (std::size_t r = 0; r < rows; ++r)
      for (std::size_t c = 0; c < cols; ++c) {
        const float v = x[r * ld + c];
        const float du = su[r] * static_cast<float>(qu[r * cols + c] - zu[r]);
        CHECK(std::abs(du - v) <= su[r] * 0.5f * (1 + 1e-5f));
        const float ds = ss[r] * static_cast<float>(qs[r * cols + c]);
        CHECK(std::abs(ds - v) <= ss[r] * 0.5f * (1 + 1e-5f));
        CHECK(qs[r * cols + c] >= -127);
      }
  }
}

TEST_CASE("static u8 quantization clamps values outside the calibrated range", "[quant][int8]") {
  const std::vector<float> x = {-10.0f, -1.0f, 0.0f, 0.5f, 1.0f, 100.0f, 1e30f, -1e30f, 0.25f};
  const pare::QuantParams p = pare::choose_u8_params(-1.0f, 1.0f);
  std::vector<std::uint8_t> q(x.size()), q_ref(x.size());
  pare::quantize_rows_u8(x.data(), 1, x.size(), x.size(), p, q.data(), x.size());
  pare::quantize_rows_u8(x.data(), 1, x.size(), x.size(), p, q_ref.data(), x.size(), true);
  CHECK(q == q_ref);
  CHECK(q[0] == 0);
  CHECK(q[5] == 255);
  CHECK(q[6] == 255);
  CHECK(q[7] == 0);
  CHECK(static_cast<std::int32_t>(q[2]) == p.zero_point);
}

TEST_CASE("non-finite rows give defined codes (found by fuzz_pare_model)", "[quant][int8]") {
  const float nan = std::nanf("");
  const auto p = pare::choose_u8_params(nan, nan);
  CHECK(p.zero_point >= 0);
  CHECK(p.zero_point <= 255);
  const auto inf = pare::choose_u8_params(-INFINITY, INFINITY);
  CHECK(inf.zero_point >= 0);
  CHECK(inf.zero_point <= 255);
  const float x[3] = {nan, 1.0f, -INFINITY};
  std::uint8_t q[3] = {};
  pare::kernels::quantize_row_reference(x, 3, 1.0f / 0.1f, 128, 0, 255, q);
  CHECK(q[0] == 128);  // NaN -> 0 -> the zero point
  CHECK(q[1] == 138);
  CHECK(q[2] == 0);
}
