// SPDX-License-Identifier: Apache-2.0
// The generic 4-bit kernel (GemvCodes4) against the scalar reference (dequantize, then dot), on
// every arch this CPU runs, for a table-decoded user format, a SIMD-decoded user format and the
// Int<4>/UInt<4> grids; and pack_for_kernel's mapping from quantizer policies to layouts.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include "kernels/support.hpp"
#include "pare/core/parallel.hpp"
#include "pare/core/random.hpp"
#include "pare/kernels/gemv_codes4.hpp"
#include "pare/kernels/gemv_lut4.hpp"
#include "pare/kernels/kernel_layout.hpp"
#include "pare/quant/nf4.hpp"
#include "pare/quant/quantizer.hpp"
#include "pare/simd/dispatch.hpp"
#include "user_policies.hpp"

namespace {

using pare::test::LogScale4;

using pare::test::Cubic4;

pare::Tensor<float, 2> random_matrix(std::size_t rows, std::size_t cols, pare::Rng& rng) {
  pare::Tensor<float, 2> w({rows, cols});
  for (float& v : w.span()) v = rng.normal();
  return w;
}

// |kernel - reference| <= (gamma_{cols + groups} + 2u) Σ|w x| on every arch.
template <class F>
void check_every_arch(const pare::Codes4Matrix<F>& q, const std::vector<float>& x) {
  std::vector<float> ref(q.rows()), y(q.rows());
  pare::kernels::gemv_codes4_reference(q, x.data(), ref.data());
  std::vector<double> bound(q.rows());
  for (std::size_t r = 0; r < q.rows(); ++r) {
    double s = 0;
    for (std::size_t c = 0; c < q.cols(); ++c) s += std::abs(double{q.value(r, c)} * x[c]);
    bound[r] = (pare::test::gamma(q.cols() + q.groups() + 2) + 2 * pare::test::unit_roundoff) * s;
  }
  pare::simd::for_each_arch([&](auto arch) {
    INFO("arch " << decltype(arch)::name() << ", format " << F::name);
    std::fill(y.begin(), y.end(), -1.0f);
    pare::kernels::GemvCodes4{}(arch, q, x.data(), y.data());
    for (std::size_t r = 0; r < q.rows(); ++r) {
      INFO("row " << r);
      REQUIRE(std::abs(double{y[r]} - ref[r]) <= bound[r]);
    }
  });
  // What pare::gemv runs for f32 x (gemv_codes4: dispatch, rows over threads) on every tier the
  // CPU has; 1, 2 and 3 threads give the same bits.
  for (auto tier : {pare::simd::Tier::sse2, pare::simd::Tier::avx2, pare::simd::Tier::avx512}) {
    const pare::simd::TierLimit limit(tier);
    if (pare::simd::active_tier() != tier) continue;
    std::vector<float> y1;
    for (std::size_t threads : {1, 2, 3}) {
      const pare::ParallelismScope scope({.threads = threads});
      std::fill(y.begin(), y.end(), -1.0f);
      pare::kernels::gemv_codes4(q, x.data(), y.data());
      INFO("tier " << pare::simd::tier_name(tier) << ", threads " << threads << ", format "
                   << F::name);
      if (threads == 1) {
        for (std::size_t r = 0; r < q.rows(); ++r) {
          INFO("row " << r);
          REQUIRE(std::abs(double{y[r]} - ref[r]) <= bound[r]);
        }
        y1 = y;
      } else {
        REQUIRE(y == y1);
      }
    }
  }
}

// GemvCodes4Q8: the f32 bound plus x's rounding, Σ_c |w_rc| d_g / 2 (d_g = max |x| of the
// group / 127), plus f32 rounding of the scale products (a few units in the last place).
template <class F>
void check_q8_every_arch(const pare::Codes4Matrix<F>& q, const std::vector<float>& x) {
  std::vector<float> ref(q.rows()), y(q.rows());
  pare::kernels::gemv_codes4_reference(q, x.data(), ref.data());
  std::vector<double> d(q.groups());
  for (std::size_t g = 0; g < q.groups(); ++g)
    for (std::size_t c = g * q.group(); c < (g + 1) * q.group(); ++c)
      d[g] = std::max(d[g], std::abs(double{x[c]}) / 127.0);
  std::vector<double> bound(q.rows());
  for (std::size_t r = 0; r < q.rows(); ++r) {
    double s = 0, xr = 0;
    for (std::size_t c = 0; c < q.cols(); ++c) {
      s += std::abs(double{q.value(r, c)} * x[c]);
      xr += std::abs(double{q.value(r, c)}) * d[c / q.group()] / 2;
    }
    bound[r] = (pare::test::gamma(q.cols() + q.groups() + 8) + 8 * pare::test::unit_roundoff) * s +
               1.001 * xr;
  }
  pare::simd::for_each_arch([&](auto arch) {
    INFO("arch " << decltype(arch)::name() << ", format " << F::name);
    std::fill(y.begin(), y.end(), -1.0f);
    pare::kernels::GemvCodes4Q8{}(arch, q, x.data(), y.data());
    for (std::size_t r = 0; r < q.rows(); ++r) {
      INFO("row " << r);
      REQUIRE(std::abs(double{y[r]} - ref[r]) <= bound[r]);
    }
  });
}

using pare::test::LogScale4i8;

}  // namespace

TEST_CASE("GemvCodes4Q8 (int8 levels, x rounded per group) is within its bound on every arch",
          "[kernels][codes4]") {
  static_assert(pare::kernels::has_int8_levels<LogScale4i8> &&
                pare::kernels::has_int8_levels<pare::LinearCodes4<true>> &&
                !pare::kernels::has_int8_levels<LogScale4>);
  pare::Rng rng(17);
  for (auto [rows, cols, group] : {std::tuple<std::size_t, std::size_t, std::size_t>{1, 128, 32},
                                   {5, 256, 32},
                                   {8, 384, 64},
                                   {7, 512, 128},
                                   {9, 512, 256},
                                   {3, 96, 32},      // cols not a multiple of 128: f32 path
                                   {4, 384, 96}}) {  // group 96: f32 path
    INFO(rows << " x " << cols << " in groups of " << group);
    const auto w = random_matrix(rows, cols, rng);
    auto x = pare::test::normal(cols, rng);
    check_q8_every_arch(pare::pack_codes4<LogScale4i8>(w.view(), group), x);
    if (cols % 32 == 0 && group % 32 == 0) {
      for (std::size_t c = 0; c < group; ++c) x[c] = 0;  // an all-zero group of x
      check_q8_every_arch(pare::pack_codes4<LogScale4i8>(w.view(), group), x);
    }
    // A format without int8 levels runs the f32 kernel, within the f32 bound.
    check_every_arch(pare::pack_codes4<LogScale4>(w.view(), group), x);
  }
  // Int<4> / UInt<4> with zero points through pack_for_kernel.
  const auto w = random_matrix(6, 256, rng);
  const auto x = pare::test::normal(256, rng);
  check_q8_every_arch(
      pare::pack_for_kernel(
          pare::Quantizer<pare::UInt<4>, pare::Affine, pare::PerGroup<32>>{}.quantize(w.view())),
      x);
  check_q8_every_arch(
      pare::pack_for_kernel(
          pare::Quantizer<pare::Int<4>, pare::Symmetric, pare::PerGroup<128>>{}.quantize(w.view())),
      x);
}

TEST_CASE("GemvCodes4 matches the scalar reference for user formats on every arch",
          "[kernels][codes4]") {
  static_assert(pare::Decode4Format<LogScale4> && pare::Decode4Format<Cubic4>);
  static_assert(!pare::kernels::SimdDecode4<LogScale4, xsimd::default_arch>);
  static_assert(pare::kernels::SimdDecode4<Cubic4, xsimd::default_arch>);
  pare::Rng rng(7);
  for (auto [rows, cols, group] : {std::tuple<std::size_t, std::size_t, std::size_t>{1, 32, 32},
                                   {3, 64, 32},
                                   {4, 128, 64},
                                   {9, 256, 128},
                                   {13, 96, 32},
                                   {0, 64, 64}}) {
    INFO(rows << " x " << cols << " in groups of " << group);
    const auto w = random_matrix(rows, cols, rng);
    const auto x = pare::test::normal(cols, rng);
    check_every_arch(pare::pack_codes4<LogScale4>(w.view(), group), x);
    check_every_arch(pare::pack_codes4<Cubic4>(w.view(), group), x);
  }
}

TEST_CASE("pack_codes4 picks the nearest level of the absmax-scaled group", "[kernels][codes4]") {
  pare::Rng rng(3);
  const auto w = random_matrix(5, 64, rng);
  const auto q = pare::pack_codes4<LogScale4>(w.view(), 32);
  const auto levels = pare::decode4_levels<LogScale4>();
  for (std::size_t r = 0; r < 5; ++r)
    for (std::size_t g = 0; g < 2; ++g) {
      float amax = 0;
      for (std::size_t c = 32 * g; c < 32 * g + 32; ++c) amax = std::max(amax, std::abs(w(r, c)));
      REQUIRE(q.scale(r, g) == amax);  // max |level| is 1
      for (std::size_t c = 32 * g; c < 32 * g + 32; ++c) {
        const float t = w(r, c) / amax;
        const float chosen = std::abs(t - levels[q.code(r, c)]);
        for (float l : levels) REQUIRE(chosen <= std::abs(t - l) + 1e-6f);
      }
    }
  CHECK_THROWS_AS(pare::pack_codes4<LogScale4>(w.view(), 48), pare::ArgumentError);
  CHECK_THROWS_AS(pare::pack_codes4<LogScale4>(w.view(), 128), pare::ArgumentError);
}

TEMPLATE_TEST_CASE("pack_for_kernel runs Int<4>/UInt<4> per-group codes on GemvCodes4 exactly",
                   "[kernels][codes4]", pare::Int<4>, pare::UInt<4>) {
  pare::Rng rng(11);
  const auto w = random_matrix(10, 192, rng);
  const auto x = pare::test::normal(192, rng);
  SECTION("symmetric") {
    const auto q =
        pare::Quantizer<TestType, pare::Symmetric, pare::PerGroup<64>>{}.quantize(w.view());
    const auto packed = pare::pack_for_kernel(q);
    const auto dq = pare::dequantize(q), dp = pare::dequantize(packed);
    for (std::size_t i = 0; i < dq.size(); ++i)
      REQUIRE(std::abs(dp.data()[i] - dq.data()[i]) <= 1e-6f * std::abs(dq.data()[i]));
    check_every_arch(packed, x);
  }
  SECTION("affine (zero points become offsets)") {
    const auto q = pare::Quantizer<TestType, pare::Affine, pare::PerGroup<32>>{}.quantize(w.view());
    const auto packed = pare::pack_for_kernel(q);
    REQUIRE(packed.offsets() != nullptr);
    const auto dq = pare::dequantize(q), dp = pare::dequantize(packed);
    for (std::size_t i = 0; i < dq.size(); ++i)
      REQUIRE(std::abs(dp.data()[i] - dq.data()[i]) <= 1e-5f * (1 + std::abs(dq.data()[i])));
    check_every_arch(packed, x);
    // pare::gemv straight from the QuantizedTensor (192 columns: the f32 kernel) agrees with the
    // reference on the default arch.
    pare::Tensor<float, 1> y({10}), xv({192});
    std::copy(x.begin(), x.end(), xv.data());
    pare::gemv(q, xv.view(), y.view());
    std::vector<float> ref(10);
    pare::kernels::gemv_codes4_reference(packed, x.data(), ref.data());
    for (std::size_t r = 0; r < 10; ++r) REQUIRE(y(r) == Approx(ref[r]).margin(1e-4));
  }
}

TEST_CASE("pack_for_kernel gives int8 per-channel codes to the int8 kernel unchanged",
          "[kernels][int8]") {
  pare::Rng rng(5);
  const auto w = random_matrix(20, 70, rng);
  const auto q =
      pare::Quantizer<pare::Int<8>, pare::Symmetric, pare::PerChannel>{}.quantize(w.view());
  const pare::PackedInt8Weights p = pare::pack_for_kernel(q);
  REQUIRE(p.n() == 20);
  REQUIRE(p.k() == 70);
  for (std::size_t n = 0; n < 20; ++n) {
    REQUIRE(p.scales()[n] == q.params(n).scale);
    for (std::size_t k = 0; k < 70; ++k) REQUIRE(p.at(n, k) == q.code(n, k));
  }
  // The full symmetric grid [-128, 127] reaches the kernel: -128 is a valid s8 weight there.
  REQUIRE(q.code_range() == pare::CodeRange{-128, 127});

  // y = W x against the dequantized weights times x (x rounded to u8: half a step per element).
  const auto x = pare::test::normal(70, rng);
  pare::Tensor<float, 1> xv({70}), y({20});
  std::copy(x.begin(), x.end(), xv.data());
  pare::gemv(p, xv.view(), y.view());
  const auto dq = pare::dequantize(q);
  float xmin = 0, xmax = 0;
  for (float v : x) xmin = std::min(xmin, v), xmax = std::max(xmax, v);
  const double x_step = (xmax - xmin) / 255.0;
  for (std::size_t r = 0; r < 20; ++r) {
    double ref = 0, wsum = 0;
    for (std::size_t c = 0; c < 70; ++c) ref += double{dq(r, c)} * x[c], wsum += std::abs(dq(r, c));
    REQUIRE(std::abs(y(r) - ref) <= 0.5 * x_step * wsum + 1e-4);
  }
}

TEST_CASE("pack_for_kernel refuses int8 weights the kernel cannot take", "[kernels][int8]") {
  pare::Rng rng(5);
  const auto w = random_matrix(4, 32, rng);
  const auto affine =
      pare::Quantizer<pare::Int<8>, pare::Affine, pare::PerChannel>{}.quantize(w.view());
  CHECK_THROWS_AS(pare::pack_for_kernel(affine), pare::ArgumentError);
  const auto columns =
      pare::Quantizer<pare::Int<8>, pare::Symmetric, pare::PerChannel>{.granularity = {.axis = 1}}
          .quantize(w.view());
  CHECK_THROWS_AS(pare::pack_for_kernel(columns), pare::ArgumentError);
  const auto q = pare::pack_codes4<LogScale4>(random_matrix(4, 64, rng).view(), 32);
  pare::Tensor<float, 1> x({63}), y({4});
  CHECK_THROWS_AS(pare::gemv(q, x.view(), y.view()), pare::ShapeError);
}

// The lut4 GEMV pare::gemv runs (gemv_lut4: run-time dispatch, rows over threads) on every tier
// the CPU has, against the scalar reference (double sums of the decoded values), and the same
// bits with 1, 2 and 3 threads.
TEST_CASE("lut4 GEMV dispatch: every tier within bounds, threads bit-identical",
          "[kernels][lut4][dispatch]") {
  pare::Rng rng(91);
  for (auto [rows, cols, group] : {std::tuple<std::size_t, std::size_t, std::size_t>{1, 32, 32},
                                   {7, 96, 32},
                                   {13, 192, 64},
                                   {130, 4096, 64}}) {
    pare::Tensor<float, 2> w({rows, cols});
    for (auto& v : w.span()) v = rng.normal();
    std::vector<float> x(cols);
    for (auto& v : x) v = rng.normal();
    const auto q = pare::pack_nf4(w.view(), group);
    std::vector<float> expect(rows);
    pare::kernels::gemv_lut4_reference(q, x.data(), expect.data());
    for (auto tier : {pare::simd::Tier::sse2, pare::simd::Tier::avx2, pare::simd::Tier::avx512}) {
      const pare::simd::TierLimit limit(tier);
      if (pare::simd::active_tier() != tier) continue;
      std::vector<float> y1;
      for (std::size_t threads : {1, 2, 3}) {
        const pare::ParallelismScope scope({.threads = threads});
        std::vector<float> y(rows + 1, -7.0f);
        pare::kernels::gemv_lut4(q, x.data(), y.data());
        INFO("tier " << pare::simd::tier_name(tier) << ", threads " << threads << ", W " << rows
                     << "x" << cols);
        CHECK(y[rows] == -7.0f);
        y.pop_back();
        if (threads == 1) {
          for (std::size_t r = 0; r < rows; ++r) {
            double abs_sum = 0;
            for (std::size_t c = 0; c < cols; ++c)
              abs_sum += std::abs(static_cast<double>(q.value(r, c)) * x[c]);
            INFO("row " << r);
            CHECK(std::abs(static_cast<double>(y[r]) - expect[r]) <=
                  pare::test::dot_tolerance(cols + 2, abs_sum));
          }
          y1 = y;
        } else {
          CHECK(y == y1);
        }
      }
    }
  }
}

TEST_CASE("gemv_codes4 splits rows over threads with the same bits on every tier",
          "[kernels][codes4][dispatch]") {
  pare::Rng rng(93);
  const auto w = random_matrix(130, 2048, rng);
  const auto x = pare::test::normal(2048, rng);
  check_every_arch(pare::pack_codes4<LogScale4>(w.view(), 64), x);
  check_every_arch(
      pare::pack_for_kernel(
          pare::Quantizer<pare::UInt<4>, pare::Affine, pare::PerGroup<32>>{}.quantize(w.view())),
      x);
}
