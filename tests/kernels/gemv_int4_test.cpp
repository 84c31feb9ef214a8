// SPDX-License-Identifier: Apache-2.0
#include "pare/kernels/gemv_int4.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>

#include "kernels/support.hpp"
#include "pare/core/parallel.hpp"
#include "pare/core/random.hpp"
#include "pare/core/tensor.hpp"
#include "pare/kernels/reference.hpp"
#include "pare/quant/int4_block.hpp"
#include "pare/quant/quantizer.hpp"
#include "pare/simd/arch.hpp"
#include "pare/simd/dispatch.hpp"

using pare::Tensor;
using pare::TensorView;
namespace test = pare::test;

namespace {

Tensor<float, 2> normal_matrix(std::size_t rows, std::size_t cols, pare::Rng& rng,
                               float scale = 1.0f) {
  Tensor<float, 2> w({rows, cols});
  for (auto& v : w.span()) v = scale * rng.normal();
  return w;
}

// Shapes: rows around the row blocks (1, 2, 4, 8; the layout interleaves rows by 8); cols one
// group, several groups, whole 128-weight blocks, 16-group scale chunks (256 / 512 weights) and
// partial ones.
template <class Format>
std::vector<std::pair<std::size_t, std::size_t>> shapes() {
  constexpr std::size_t G = Format::group;
  return {{1, G},           {3, 2 * G},    {4, 128},     {5, 128 + G}, {7, 256},
          {9, 384 + 2 * G}, {17, 512},     {2, 640 + G}, {6, 1024},    {13, 4 * G},
          {11, 1536 + G},   {19, 256 + G}, {33, 512}};
}

// |kernel - reference| for row r: the f32 kernel's rounding (gamma_cols * sum |w x|, as the f32
// GEMV), plus, for the int8-activation kernel, x's rounding: at most half an int8 step of x per
// weight on the SIMD blocks (the last partial 128-block uses the exact x).
template <class Format>
double row_tolerance(const pare::Int4Matrix<Format>& q, std::size_t r, const std::vector<float>& x,
                     bool int8_x) {
  const std::size_t cols = q.cols(), full = cols / pare::int4_block * pare::int4_block;
  double abs_sum = 0, x_err = 0;
  for (std::size_t c = 0; c < cols; ++c) {
    const double w = std::abs(static_cast<double>(q.value(r, c)));
    abs_sum += w * std::abs(static_cast<double>(x[c]));
    if (int8_x && c < full) {
      double m = 0;
      const std::size_t b0 = c / Format::group * Format::group;
      for (std::size_t i = b0; i < b0 + Format::group; ++i)
        m = std::max(m, std::abs(static_cast<double>(x[i])));
      x_err += w * (m / 127.0 / 2.0) * (1 + 1e-6);  // 1e-6: the f32 rounding of the step and code
      abs_sum += w * m / 127.0;
    }
  }
  return x_err + test::dot_tolerance(cols, abs_sum);
}

template <class Format>
void check_kernels(std::size_t rows, std::size_t cols, pare::Rng& rng) {
  const auto w = normal_matrix(rows, cols, rng);
  const auto q = pare::pack_int4_blocks<Format>(w);
  std::vector<float> x(cols);
  for (auto& v : x) v = rng.normal();
  // Reference: dequantize, then the f32 GEMV in double.
  const Tensor<float, 2> wd = pare::dequantize(q);
  std::vector<float> expect(rows);
  pare::kernels::reference::gemv(wd, TensorView<const float, 1>(x.data(), {cols}),
                                 TensorView<float, 1>(expect.data(), {rows}));
  std::vector<float> ref2(rows);
  pare::kernels::gemv_int4_reference(q, x.data(), ref2.data());
  CHECK(ref2 == expect);

  pare::simd::for_each_arch([&](auto arch) {
    const auto run = [&](auto kernel, const char* name, bool int8_x) {
      std::vector<float> y(rows + 1, -7.0f);
      kernel(arch, q, x.data(), y.data());
      INFO("arch " << decltype(arch)::name() << ", " << name << ", W " << rows << "x" << cols
                   << ", group " << Format::group);
      CHECK(y[rows] == -7.0f);
      for (std::size_t r = 0; r < rows; ++r) {
        INFO("row " << r);
        CHECK(std::abs(static_cast<double>(y[r]) - expect[r]) <= row_tolerance(q, r, x, int8_x));
      }
    };
    run(pare::kernels::GemvInt4{}, "GemvInt4", false);
    run(pare::kernels::GemvInt4Tuned<1>{}, "GemvInt4Tuned<1>", false);
    run(pare::kernels::GemvInt4Tuned<8>{}, "GemvInt4Tuned<8>", false);
    run(pare::kernels::GemvInt4Q8{}, "GemvInt4Q8", true);
    run(pare::kernels::GemvInt4Q8Tuned<2>{}, "GemvInt4Q8Tuned<2>", true);
    run(pare::kernels::GemvInt4Q8Tuned<4, 256>{}, "GemvInt4Q8Tuned<4, 256>", true);
    run(pare::kernels::GemvInt4Q8Tuned<8, 1024>{}, "GemvInt4Q8Tuned<8, 1024>", true);
  });
}

}  // namespace

TEMPLATE_TEST_CASE("Int4 GEMV kernels match dequantize-then-GEMV on every arch and shape",
                   "[kernels][int4]", pare::Q4G16, pare::Q4G32, pare::Q4G64, pare::Q4G128) {
  pare::Rng rng(40);
  for (auto [rows, cols] : shapes<TestType>()) check_kernels<TestType>(rows, cols, rng);
}

// What pare::gemv runs (gemv_int4_q8: run-time dispatch, rows over threads) on every tier the CPU
// has, with and without the tier's VNNI: within the bound of the dequantize-then-GEMV reference,
// and the same bits with 1, 2 and 3 threads.
TEMPLATE_TEST_CASE("Int4 GEMV dispatch: every tier within bounds, threads bit-identical",
                   "[kernels][int4][dispatch]", pare::Q4G16, pare::Q4G32, pare::Q4G64,
                   pare::Q4G128) {
  pare::Rng rng(46);
  auto all = shapes<TestType>();
  all.push_back({130, 2048 + TestType::group});  // row blocks enough for several threads
  for (auto [rows, cols] : all) {
    const auto q = pare::pack_int4_blocks<TestType>(normal_matrix(rows, cols, rng));
    std::vector<float> x(cols);
    for (auto& v : x) v = rng.normal();
    const Tensor<float, 2> wd = pare::dequantize(q);
    std::vector<float> expect(rows);
    pare::kernels::reference::gemv(wd, TensorView<const float, 1>(x.data(), {cols}),
                                   TensorView<float, 1>(expect.data(), {rows}));
    for (auto tier : {pare::simd::Tier::sse2, pare::simd::Tier::avx2, pare::simd::Tier::avx512}) {
      const pare::simd::TierLimit limit(tier);
      if (pare::simd::active_tier() != tier) continue;
      for (bool vnni : {true, false}) {
        std::vector<float> y1;
        for (std::size_t threads : {1, 2, 3}) {
          const pare::ParallelismScope scope({.threads = threads});
          std::vector<float> y(rows + 1, -7.0f);
          pare::kernels::gemv_int4_q8(q, x.data(), y.data(), vnni);
          INFO("tier " << pare::simd::tier_name(tier) << ", vnni " << vnni << ", threads "
                       << threads << ", W " << rows << "x" << cols << ", group "
                       << TestType::group);
          CHECK(y[rows] == -7.0f);
          y.pop_back();
          if (threads == 1) {
            const bool int8_x = tier >= pare::simd::Tier::avx2;
            for (std::size_t r = 0; r < rows; ++r) {
              INFO("row " << r);
              CHECK(std::abs(static_cast<double>(y[r]) - expect[r]) <=
                    row_tolerance(q, r, x, int8_x));
            }
            y1 = y;
          } else {
            CHECK(y == y1);
          }
        }
      }
    }
  }
}

// The batched kernel against the same reference, every batch size 1..9 (tiles of 8 plus a
// remainder; 4 rows per block up to 4 vectors, 2 beyond), X and Y with padded rows.
TEMPLATE_TEST_CASE("Int4 small-batch GEMM matches dequantize-then-GEMV for batches 1 to 9",
                   "[kernels][int4][gemm]", pare::Q4G16, pare::Q4G32, pare::Q4G128) {
  pare::Rng rng(44);
  for (auto [rows, cols] : shapes<TestType>()) {
    if (rows * cols > 6000) continue;  // the small shapes cover every path; keep the test quick
    const auto q = pare::pack_int4_blocks<TestType>(normal_matrix(rows, cols, rng));
    for (std::size_t batch = 1; batch <= 9; ++batch) {
      const std::size_t ldx = cols + 3, ldy = rows + 2;
      std::vector<float> x(batch * ldx), expect(batch * ldy, -5.0f);
      for (auto& v : x) v = rng.normal();
      pare::kernels::gemm_int4_reference(q, x.data(), batch, ldx, expect.data(), ldy);
      pare::simd::for_each_arch([&](auto arch) {
        std::vector<float> y(batch * ldy, -5.0f);
        pare::kernels::GemmInt4Q8{}(arch, q, x.data(), batch, ldx, y.data(), ldy);
        INFO("arch " << decltype(arch)::name() << ", W " << rows << "x" << cols << ", batch "
                     << batch << ", group " << TestType::group);
        for (std::size_t b = 0; b < batch; ++b) {
          const std::vector<float> xb(x.begin() + static_cast<std::ptrdiff_t>(b * ldx),
                                      x.begin() + static_cast<std::ptrdiff_t>(b * ldx + cols));
          for (std::size_t r = 0; r < rows; ++r) {
            INFO("vector " << b << ", row " << r);
            CHECK(std::abs(static_cast<double>(y[b * ldy + r]) - expect[b * ldy + r]) <=
                  row_tolerance(q, r, xb, true));
          }
          for (std::size_t r = rows; r < ldy; ++r) CHECK(y[b * ldy + r] == -5.0f);
        }
      });
    }
  }
}

TEST_CASE("pare::gemm_int4 checks shapes and takes strided operands", "[kernels][int4][gemm]") {
  pare::Rng rng(45);
  const std::size_t rows = 10, cols = 256, batch = 3;
  const auto q = pare::pack_int4_blocks<pare::Q4G32>(normal_matrix(rows, cols, rng));
  Tensor<float, 2> x({batch, cols}), y({batch, rows}), yt({rows, batch});
  for (auto& v : x.span()) v = rng.normal();
  pare::gemm_int4(q, x, y);
  // Y written through a transposed (column-strided) view lands in the same values.
  pare::gemm_int4(q, x, yt.view().transposed());
  std::vector<float> expect(batch * rows);
  pare::kernels::gemm_int4_reference(q, x.data(), batch, cols, expect.data(), rows);
  for (std::size_t b = 0; b < batch; ++b)
    for (std::size_t r = 0; r < rows; ++r) {
      CHECK(yt(r, b) == y(b, r));
      const std::vector<float> xb(x.data() + b * cols, x.data() + (b + 1) * cols);
      CHECK(std::abs(static_cast<double>(y(b, r)) - expect[b * rows + r]) <=
            row_tolerance(q, r, xb, true));
    }
  // Every tier the CPU runs: the tiled AVX-512 VNNI kernel where built, the dispatched GEMV per
  // vector elsewhere (a default-flags build, or the tier capped).
  for (auto tier : {pare::simd::Tier::sse2, pare::simd::Tier::avx2, pare::simd::Tier::avx512}) {
    const pare::simd::TierLimit cap(tier);
    INFO("tier cap " << pare::simd::tier_name(tier));
    Tensor<float, 2> yc({batch, rows});
    pare::gemm_int4(q, x, yc);
    for (std::size_t b = 0; b < batch; ++b)
      for (std::size_t r = 0; r < rows; ++r) {
        const std::vector<float> xb(x.data() + b * cols, x.data() + (b + 1) * cols);
        CHECK(std::abs(static_cast<double>(yc(b, r)) - expect[b * rows + r]) <=
              row_tolerance(q, r, xb, true));
      }
  }
  Tensor<float, 2> x5({batch, cols + 1}), y3({batch, rows}), y4({batch + 1, rows});
  CHECK_THAT(test::shape_error_of([&] { pare::gemm_int4(q, x5, y3); }),
             Catch::Matchers::Contains("[3, 257]") && Catch::Matchers::Contains("[10, 256]"));
  CHECK_THROWS_AS(pare::gemm_int4(q, x, y4), pare::ShapeError);
}

TEMPLATE_TEST_CASE(
    "pack_int4_blocks stores each weight's nearest level and round-trips exact values",
    "[kernels][int4]", pare::Q4G16, pare::Q4G32) {
  constexpr std::size_t G = TestType::group;
  pare::Rng rng(41);
  for (auto [rows, cols] : shapes<TestType>()) {
    const auto w = normal_matrix(rows, cols, rng, 0.02f);
    const auto q = pare::pack_int4_blocks<TestType>(w);
    REQUIRE(q.rows() == rows);
    REQUIRE(q.cols() == cols);
    CHECK(q.bits_per_weight() ==
          Approx(TestType::bits_per_weight + 32.0 / static_cast<double>(rows * cols)));
    const auto& cb = TestType::levels();
    for (std::size_t r = 0; r < rows; ++r) {
      for (std::size_t c = 0; c < cols; ++c) {
        // The stored level is the nearest one for the group's scale (ties within rounding).
        const float s = q.scale(r, c / G);
        const double err = std::abs(static_cast<double>(w(r, c)) - q.value(r, c));
        for (auto level : cb)
          CHECK(err <= std::abs(static_cast<double>(w(r, c)) - s * static_cast<float>(level)) *
                               (1 + 1e-6) +
                           1e-12);
      }
    }
    // A matrix of representable values (scale * level) packs to itself exactly.
    const Tensor<float, 2> wd = pare::dequantize(q);
    const auto q2 = pare::pack_int4_blocks<TestType>(wd, {.scale_top = q.scale_top()});
    const Tensor<float, 2> wd2 = pare::dequantize(q2);
    bool same = true;
    for (std::size_t r = 0; r < rows; ++r)
      for (std::size_t c = 0; c < cols; ++c) same = same && wd2(r, c) == wd(r, c);
    CHECK(same);
  }
  // Codes and scale codes land where code() and scale() read them: set and read back.
  pare::Int4Matrix<TestType> m(3, 128 + 2 * G, 1.0f);
  for (std::size_t r = 0; r < 3; ++r)
    for (std::size_t c = 0; c < m.cols(); ++c)
      m.set_code(r, c, static_cast<unsigned>((r * 7 + c * 5) % 16));
  for (std::size_t r = 0; r < 3; ++r)
    for (std::size_t c = 0; c < m.cols(); ++c) CHECK(m.code(r, c) == (r * 7 + c * 5) % 16);
  // Scale codes: sign bit, then T * 2^(-k/8).
  CHECK(m.decode_scale(0) == 1.0f);
  CHECK(m.decode_scale(0x80) == -1.0f);
  CHECK(m.decode_scale(8) == 0.5f);
  CHECK(m.decode_scale(0x7F) == Approx(std::exp2(-127.0 / 8.0)).epsilon(1e-6));
}

TEST_CASE("Zero groups pack exactly, constant ones within a scale step", "[kernels][int4]") {
  Tensor<float, 2> w({2, 64}, 0.0f);
  for (std::size_t c = 32; c < 64; ++c) w(1, c) = -0.5f;
  const auto q = pare::pack_int4_blocks<pare::Q4G16>(w);
  const Tensor<float, 2> wd = pare::dequantize(q);
  for (std::size_t r = 0; r < 2; ++r)
    for (std::size_t c = 0; c < 64; ++c)
      CHECK(std::abs(wd(r, c) - w(r, c)) <= 0.03f * std::abs(w(r, c)));
  CHECK_THROWS_AS(pare::pack_int4_blocks<pare::Q4G32>(Tensor<float, 2>({2, 48})),
                  pare::ArgumentError);
}

// The accuracy claims of docs/quantization.md ("4-bit formats: accuracy per bit") as tests: on a
// 1024x1024 N(0,1) matrix (SQNR is an average; 4096^2 measures within 0.05 dB of it).
TEST_CASE("Q4G16 reaches 23 dB at 4.5 bpw and Q4G32 21.3 dB at 4.25 bpw on Gaussian weights",
          "[kernels][int4]") {
  pare::Rng rng(42);
  const auto w = normal_matrix(1024, 1024, rng);
  const auto q16 = pare::pack_int4_blocks<pare::Q4G16>(w);
  const auto q32 = pare::pack_int4_blocks<pare::Q4G32>(w);
  CHECK(q16.bits_per_weight() <= 4.5 + 1e-4);
  CHECK(q32.bits_per_weight() <= 4.25 + 1e-4);
  const double s16 = pare::sqnr_db(TensorView<const float, 2>(w),
                                   TensorView<const float, 2>(pare::dequantize(q16)));
  const double s32 = pare::sqnr_db(TensorView<const float, 2>(w),
                                   TensorView<const float, 2>(pare::dequantize(q32)));
  INFO("Q4G16 " << s16 << " dB, Q4G32 " << s32 << " dB");
  CHECK(s16 >= 23.0);
  CHECK(s32 >= 21.3);
}

TEST_CASE("pare::gemv(Int4Matrix) checks shapes and takes strided vectors", "[kernels][int4]") {
  pare::Rng rng(43);
  const std::size_t rows = 9, cols = 160;
  const auto w = normal_matrix(rows, cols, rng);
  const auto q = pare::pack_int4_blocks<pare::Q4G16>(w);
  std::vector<float> x2(2 * cols), y2(2 * rows, -1.0f), xc(cols), yc(rows), expect(rows);
  for (std::size_t c = 0; c < cols; ++c) xc[c] = x2[2 * c] = rng.normal();
  pare::kernels::gemv_int4_reference(q, xc.data(), expect.data());
  pare::gemv(q, TensorView<const float, 1>(x2.data(), {cols}, {2}),
             TensorView<float, 1>(y2.data(), {rows}, {2}));
  pare::gemv(q, TensorView<const float, 1>(xc.data(), {cols}),
             TensorView<float, 1>(yc.data(), {rows}));
  for (std::size_t r = 0; r < rows; ++r) {
    CHECK(y2[2 * r] == yc[r]);
    CHECK(y2[2 * r + 1] == -1.0f);
    CHECK(std::abs(static_cast<double>(yc[r]) - expect[r]) <= row_tolerance(q, r, xc, true));
  }
  Tensor<float, 1> x5({cols + 1}), y3({rows});
  CHECK_THAT(test::shape_error_of([&] { pare::gemv(q, x5, y3); }),
             Catch::Matchers::Contains("[9, 160]") && Catch::Matchers::Contains("[161]") &&
                 Catch::Matchers::Contains("[9]"));
}
