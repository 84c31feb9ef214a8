// SPDX-License-Identifier: Apache-2.0
// Every sparse format's SIMD kernels (spmv, spmm) on every arch the CPU runs against the scalar
// references, and the references against the dense product of the masked matrix.
#include "pare/kernels/spmv.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>

#include "kernels/support.hpp"
#include "pare/core/parallel.hpp"
#include "pare/kernels/gemv.hpp"
#include "pare/kernels/reference.hpp"
#include "pare/kernels/spmm.hpp"
#include "pare/simd/arch.hpp"
#include "pare/simd/dispatch.hpp"
#include "sparse/support.hpp"

using pare::Tensor;
using pare::TensorView;
using pare::test::MaskKind;
namespace ref = pare::kernels::reference;
namespace test = pare::test;

namespace {

// Odd shapes and tails around every batch width (4, 8, 16) and the 2x16 unroll, block edges
// (rows % 16, cols % 16), and the 32-column window of the 2:4 permute path.
const std::vector<std::pair<std::size_t, std::size_t>> shapes = {
    {0, 0},   {0, 7},   {5, 0},   {1, 1},   {3, 5},    {1, 16},   {4, 32},
    {17, 33}, {16, 64}, {33, 31}, {7, 100}, {20, 129}, {64, 257}, {5, 1000}};

const MaskKind kinds[] = {MaskKind::random, MaskKind::empty_rows, MaskKind::dense, MaskKind::empty};

// |kernel - exact| <= gamma_n sum|terms| and the double reference is within 1 ulp of exact.
template <class F>
double tolerance(const F& a, const Tensor<float, 2>& dense, TensorView<const float, 1> x,
                 std::size_t r) {
  double abs_sum = 0;
  for (std::size_t c = 0; c < a.cols(); ++c) abs_sum += std::abs(double(dense(r, c)) * x[c]);
  // CsrInt8 multiplies by the row scale after the sum: one more rounding.
  return test::dot_tolerance(a.cols() + 2, abs_sum);
}

template <class F>
void check_spmv(std::size_t rows, std::size_t cols, MaskKind kind, bool ints, pare::Rng& rng) {
  const auto gen = [&] {
    return ints ? static_cast<float>(static_cast<int>(rng.below(17)) - 8) : rng.normal();
  };
  const auto w = test::make_matrix(rows, cols, gen);
  const auto mask = test::make_mask<F>(rows, cols, kind, rng);
  const F a = F::from_dense(w.view(), mask.view());
  const auto dense = a.to_dense();  // masked (and for int8, dequantized) weights
  std::vector<float> xs(cols);
  for (auto& v : xs) v = gen();
  const TensorView<const float, 1> x(xs.data(), {cols});

  // The format's own reference against a dense GEMV of its dense form.
  std::vector<float> expect(rows), dense_y(rows);
  ref::spmv(a, x, TensorView<float, 1>(expect.data(), {rows}));
  ref::gemv(dense.view(), x, TensorView<float, 1>(dense_y.data(), {rows}));
  INFO("W " << rows << "x" << cols << ", mask " << test::name(kind) << (ints ? ", ints" : ""));
  for (std::size_t r = 0; r < rows; ++r)
    CHECK(std::abs(double(expect[r]) - dense_y[r]) <= tolerance(a, dense, x, r));

  pare::simd::for_each_arch([&](auto arch) {
    INFO("arch " << decltype(arch)::name());
    std::vector<float> y(rows + 1, -7.0f);  // one sentinel past the end
    pare::kernels::Spmv{}(arch, a, xs.data(), y.data());
    CHECK(y[rows] == -7.0f);
    for (std::size_t r = 0; r < rows; ++r) {
      INFO("row " << r);
      if (ints && !test::IsQuantized<F>::value)
        CHECK(y[r] == expect[r]);
      else
        CHECK(std::abs(double(y[r]) - expect[r]) <= tolerance(a, dense, x, r));
    }
    // Y = A X for batches around the 4-batch block and the tails.
    for (std::size_t n : {std::size_t{1}, std::size_t{3}, std::size_t{17}, std::size_t{67}}) {
      INFO("spmm batch " << n);
      std::vector<float> xm(cols * n);
      for (auto& v : xm) v = gen();
      const std::size_t ldy = n + 2;  // rows of Y padded: the kernel must leave the gap alone
      std::vector<float> ym(rows * ldy, -7.0f), em(rows * n);
      const TensorView<const float, 2> xv(xm.data(), {cols, n});
      ref::spmm(a, xv, TensorView<float, 2>(em.data(), {rows, n}));
      pare::kernels::Spmm{}(arch, a, xm.data(), n, n, ym.data(), ldy);
      for (std::size_t r = 0; r < rows; ++r) {
        CHECK(ym[r * ldy + n] == -7.0f);
        for (std::size_t c = 0; c < n; ++c) {
          double abs_sum = 0;
          for (std::size_t k = 0; k < cols; ++k)
            abs_sum += std::abs(double(dense(r, k)) * xv(k, c));
          CHECK(std::abs(double(ym[r * ldy + c]) - em[r * n + c]) <=
                test::dot_tolerance(cols + 2, abs_sum));
        }
      }
    }
  });
}

template <class F>
void sweep(std::uint64_t seed) {
  pare::Rng rng(seed);
  for (auto [rows, cols] : shapes) {
    // Under the sanitizers (PARE_FULL_SWEEP == 0) the largest shapes go once, not 8 times.
    const bool large = rows * cols > 2000;
    for (MaskKind kind : kinds)
      for (bool ints : {false, true})
        if (PARE_FULL_SWEEP || !large || (kind == MaskKind::random && !ints))
          check_spmv<F>(rows, cols, kind, ints, rng);
  }
}

}  // namespace

TEMPLATE_TEST_CASE("Spmv and Spmm match the references on every arch, shape and mask",
                   "[sparse][spmv]", pare::Csr<std::uint16_t>, pare::Csr<std::uint32_t>,
                   pare::CsrInt8<std::uint16_t>, pare::CsrInt8<std::uint32_t>, pare::Bitmap,
                   (pare::Bsr<1, 16>), (pare::Bsr<4, 16>), (pare::Bsr<16, 1>), (pare::Bsr<1, 8>),
                   (pare::Bsr<3, 5>), (pare::PackedNM<2, 4>), (pare::PackedNM<1, 2>),
                   (pare::PackedNM<4, 8>), (pare::PackedNM<8, 16>), (pare::PackedNM<1, 4>),
                   (pare::PackedNM<2, 16>), (pare::PackedNM<3, 7>),
                   (pare::PackedNM<1, 4, std::int8_t>), (pare::PackedNM<2, 4, std::int8_t>),
                   (pare::PackedNM<2, 8, std::int8_t>)) {
  sweep<TestType>(42);
}

// pare::spmv and pare::spmm (run-time dispatch, rows over threads) on every tier the CPU has:
// within the bound of the reference, and the same bits with 1, 2 and 3 threads.
TEMPLATE_TEST_CASE("pare::spmv and spmm on every tier within bounds, threads bit-identical",
                   "[sparse][spmv][dispatch]", pare::Csr<std::uint16_t>, pare::Csr<std::uint32_t>,
                   pare::CsrInt8<std::uint16_t>, pare::Bitmap, (pare::Bsr<4, 16>),
                   (pare::Bsr<16, 1>), (pare::Bsr<3, 5>), (pare::PackedNM<2, 4>),
                   (pare::PackedNM<4, 8>), (pare::PackedNM<1, 4>), (pare::PackedNM<3, 7>),
                   (pare::PackedNM<2, 8, std::int8_t>)) {
  pare::Rng rng(77);
  for (auto [rows, cols] :
       std::vector<std::pair<std::size_t, std::size_t>>{{17, 33}, {20, 129}, {300, 2000}}) {
    const auto w = test::make_matrix(rows, cols, [&] { return rng.normal(); });
    const auto mask = test::make_mask<TestType>(rows, cols, MaskKind::random, rng);
    const TestType a = TestType::from_dense(w.view(), mask.view());
    const auto dense = a.to_dense();
    std::vector<float> xs(cols);
    for (auto& v : xs) v = rng.normal();
    const TensorView<const float, 1> x(xs.data(), {cols});
    std::vector<float> expect(rows);
    ref::spmv(a, x, TensorView<float, 1>(expect.data(), {rows}));
    // pare::spmm on a batch of 5 columns, alike
    const std::size_t n = 5;
    std::vector<float> xm(cols * n), em(rows * n);
    for (auto& v : xm) v = rng.normal();
    const TensorView<const float, 2> xmv(xm.data(), {cols, n});
    ref::spmm(a, xmv, TensorView<float, 2>(em.data(), {rows, n}));
    for (auto tier : {pare::simd::Tier::sse2, pare::simd::Tier::avx2, pare::simd::Tier::avx512}) {
      const pare::simd::TierLimit limit(tier);
      if (pare::simd::active_tier() != tier) continue;
      std::vector<float> ym1;
      for (std::size_t threads : {1, 2, 3}) {
        const pare::ParallelismScope scope({.threads = threads, .max_grain = 1});
        std::vector<float> ym(rows * n, -7.0f);
        pare::spmm(a, xmv, TensorView<float, 2>(ym.data(), {rows, n}));
        INFO("spmm, tier " << pare::simd::tier_name(tier) << ", threads " << threads << ", W "
                           << rows << "x" << cols);
        if (threads > 1) {
          CHECK(ym == ym1);
          continue;
        }
        for (std::size_t c = 0; c < n; ++c) {
          std::vector<float> xc(cols);
          for (std::size_t k = 0; k < cols; ++k) xc[k] = xm[k * n + c];
          const TensorView<const float, 1> xcv(xc.data(), {cols});
          for (std::size_t r = 0; r < rows; ++r)
            CHECK(std::abs(double(ym[r * n + c]) - em[r * n + c]) <= tolerance(a, dense, xcv, r));
        }
        ym1 = ym;
      }
      std::vector<float> y1;
      for (std::size_t threads : {1, 2, 3}) {
        const pare::ParallelismScope scope({.threads = threads});
        std::vector<float> y(rows, -7.0f);
        pare::spmv(a, x, TensorView<float, 1>(y.data(), {rows}));
        INFO("tier " << pare::simd::tier_name(tier) << ", threads " << threads << ", W " << rows
                     << "x" << cols);
        if (threads == 1) {
          for (std::size_t r = 0; r < rows; ++r) {
            INFO("row " << r);
            CHECK(std::abs(double(y[r]) - expect[r]) <= tolerance(a, dense, x, r));
          }
          y1 = y;
        } else {
          CHECK(y == y1);
        }
      }
    }
  }
}

TEST_CASE("pare::spmv and pare::spmm check shapes and take strided views", "[sparse][spmv]") {
  pare::Rng rng(5);
  const auto w = test::make_matrix(6, 9, [&] { return rng.normal(); });
  const auto a = pare::Csr<std::uint16_t>::from_dense(w.view());
  Tensor<float, 1> x({9}), y({6});
  CHECK_THROWS_AS(pare::spmv(a, y.view(), y.view()), pare::ShapeError);
  Tensor<float, 2> xm({9, 2}), ym({5, 2});
  CHECK_THROWS_AS(pare::spmm(a, xm.view(), ym.view()), pare::ShapeError);

  // Column 1 of an [9, 2] matrix is a strided x: the reference path.
  for (auto& v : xm.span()) v = rng.normal();
  const auto xs = xm.view().transposed()[1];
  Tensor<float, 1> y_strided({6}), y_dense({6});
  pare::spmv(a, xs, y_strided.view());
  pare::gemv(w.view(), Tensor<float, 1>(xs).view(), y_dense.view());
  for (std::size_t r = 0; r < 6; ++r) CHECK(y_strided(r) == Approx(y_dense(r)).margin(1e-5));
}
