// SPDX-License-Identifier: Apache-2.0
// linalg/dense_f64.hpp: every blocked kernel, on every arch the CPU runs, against the scalar
// references of linalg/reference.hpp on odd sizes (tails of every register tile and cache
// block, one and several Cholesky blocks), plus properties that need no reference (L·Lᵀ = A,
// A·A⁻¹ = I).
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstddef>
#include <limits>
#include <string>

#include "pare/core/random.hpp"
#include "pare/linalg/dense_f64.hpp"
#include "pare/linalg/kernels.hpp"
#include "pare/linalg/layer_hessian.hpp"

namespace {

using pare::Tensor;
using pare::TensorView;
using pare::linalg::CholeskyStatus;

// Sizes around the Cholesky block (96), the register tiles (8 and 6 rows, 24, 8 and 4 columns)
// and the cache blocks (MC = 192, KC = 256).
constexpr std::size_t sizes[] = {1, 2, 5, 7, 31, 95, 96, 97, 193, 290};

Tensor<double, 2> random_matrix(std::size_t rows, std::size_t cols, std::uint64_t seed) {
  pare::Rng rng(seed);
  Tensor<double, 2> a({rows, cols});
  for (double& v : a.span()) v = rng.normal();
  return a;
}

/// A = XᵀX/k + 0.05·I from k = n + 3 samples: symmetric positive definite, condition ~ 10³.
Tensor<double, 2> spd(std::size_t n, std::uint64_t seed) {
  const auto x = random_matrix(n + 3, n, seed);
  Tensor<double, 2> a({n, n});
  pare::linalg::reference::syrk_lower(1.0 / static_cast<double>(n + 3),
                                      TensorView<const double, 2>(x.view()), 0.0, a.view());
  for (std::size_t i = 0; i < n; ++i) a(i, i) += 0.05;
  pare::linalg::symmetrize_from_lower(a.view());
  return a;
}

double max_abs(TensorView<const double, 2> a) {
  double m = 0;
  for (std::size_t i = 0; i < a.extent(0); ++i)
    for (std::size_t j = 0; j < a.extent(1); ++j) m = std::max(m, std::abs(a(i, j)));
  return m;
}

double max_diff(TensorView<const double, 2> a, TensorView<const double, 2> b) {
  double m = 0;
  for (std::size_t i = 0; i < a.extent(0); ++i)
    for (std::size_t j = 0; j < a.extent(1); ++j) m = std::max(m, std::abs(a(i, j) - b(i, j)));
  return m;
}

/// max |A·B − I|.
double distance_to_identity(TensorView<const double, 2> a, TensorView<const double, 2> b) {
  const std::size_t n = a.extent(0);
  Tensor<double, 2> p({n, n});
  pare::linalg::reference::gemm(1.0, a, b, 0.0, p.view());
  for (std::size_t i = 0; i < n; ++i) p(i, i) -= 1.0;
  return max_abs(p.view());
}

template <class Arch>
std::string arch_name(Arch) {
  return Arch::name();
}

}  // namespace

TEST_CASE("blocked Cholesky equals the unblocked reference on every arch", "[linalg]") {
  pare::simd::for_each_arch([](auto arch) {
    for (std::size_t n : sizes) {
      INFO(arch_name(arch) << " n = " << n);
      const auto a = spd(n, n);
      auto want = a, got = a;
      REQUIRE(pare::linalg::reference::cholesky(want.view()) == CholeskyStatus::ok);
      // Garbage above the diagonal: only the lower triangle may be read.
      for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = i + 1; j < n; ++j) got(i, j) = 1e30;
      REQUIRE(pare::linalg::kernels::Cholesky{}(
                  arch, got.data(), n, static_cast<std::ptrdiff_t>(n)) == CholeskyStatus::ok);
      CHECK(max_diff(got.view(), want.view()) <= 1e-13 * max_abs(want.view()));
      // L·Lᵀ = A, and zeros above the diagonal.
      Tensor<double, 2> llt({n, n});
      pare::linalg::reference::gemm(1.0, TensorView<const double, 2>(got.view()),
                                    TensorView<const double, 2>(got.view()).transposed(), 0.0,
                                    llt.view());
      CHECK(max_diff(llt.view(), a.view()) <= 1e-13 * max_abs(a.view()));
      std::size_t nonzero_above = 0;
      for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = i + 1; j < n; ++j) nonzero_above += got(i, j) != 0.0;
      CHECK(nonzero_above == 0);
    }
  });
}

TEST_CASE("Cholesky reports a matrix that is not positive definite as a status", "[linalg]") {
  for (std::size_t n : {std::size_t{3}, std::size_t{150}}) {
    // Positive definite except for one pivot: in the first block for n = 3, past it for 150.
    auto a = spd(n, 3);
    const std::size_t bad = n - 2;
    a(bad, bad) = -1.0;
    auto r = a;
    CHECK(pare::linalg::reference::cholesky(r.view()) == CholeskyStatus::not_positive_definite);
    pare::simd::for_each_arch([&](auto arch) {
      auto k = a;
      CHECK(pare::linalg::kernels::Cholesky{}(arch, k.data(), n, static_cast<std::ptrdiff_t>(n)) ==
            CholeskyStatus::not_positive_definite);
    });
    auto p = a;
    CHECK(pare::linalg::cholesky(p.view()) == CholeskyStatus::not_positive_definite);
    auto q = a;
    CHECK(pare::linalg::inverse_upper_cholesky(q.view()) == CholeskyStatus::not_positive_definite);
    auto nan = spd(n, 4);
    nan(n - 1, 0) = std::numeric_limits<double>::quiet_NaN();
    CHECK(pare::linalg::cholesky(nan.view()) == CholeskyStatus::not_positive_definite);
  }
  Tensor<double, 2> zero({4, 4});
  CHECK(pare::linalg::cholesky(zero.view()) == CholeskyStatus::not_positive_definite);
}

TEST_CASE("blocked triangular inverse equals the reference on every arch", "[linalg]") {
  pare::simd::for_each_arch([](auto arch) {
    for (std::size_t n : sizes) {
      INFO(arch_name(arch) << " n = " << n);
      auto l = spd(n, 100 + n);
      REQUIRE(pare::linalg::reference::cholesky(l.view()) == CholeskyStatus::ok);
      auto want = l, got = l;
      pare::linalg::reference::invert_lower(want.view());
      for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = i + 1; j < n; ++j) got(i, j) = 7.0;  // must stay untouched
      pare::linalg::kernels::InvertLower{}(arch, got.data(), n, static_cast<std::ptrdiff_t>(n));
      std::size_t touched = 0;
      for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = i + 1; j < n; ++j) {
          touched += got(i, j) != 7.0;
          got(i, j) = 0.0;
        }
      CHECK(touched == 0);
      CHECK(max_diff(got.view(), want.view()) <= 1e-12 * max_abs(want.view()));
      CHECK(distance_to_identity(l.view(), got.view()) <= 1e-12);
    }
  });
}

TEST_CASE("inverse from the factor and the upper factor of the inverse", "[linalg]") {
  for (std::size_t n : sizes) {
    INFO("n = " << n);
    const auto a = spd(n, 200 + n);
    auto l = a;
    REQUIRE(pare::linalg::cholesky(l.view()) == CholeskyStatus::ok);
    Tensor<double, 2> inv({n, n}), want_inv({n, n});
    pare::linalg::cholesky_inverse(l.view(), inv.view());
    pare::linalg::reference::cholesky_inverse(TensorView<const double, 2>(l.view()),
                                              want_inv.view());
    CHECK(max_diff(inv.view(), want_inv.view()) <= 1e-12 * max_abs(want_inv.view()));
    CHECK(distance_to_identity(a.view(), inv.view()) <= 1e-10);
    std::size_t asymmetric = 0;
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < i; ++j) asymmetric += inv(i, j) != inv(j, i);
    CHECK(asymmetric == 0);

    // The short way (reversed Cholesky, triangular inverse) against the reference's long way
    // (Cholesky, inverse, Cholesky of the inverse), with garbage in the unread upper triangle.
    auto u = a, want_u = a;
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = i + 1; j < n; ++j) u(i, j) = -3.0;
    REQUIRE(pare::linalg::inverse_upper_cholesky(u.view()) == CholeskyStatus::ok);
    REQUIRE(pare::linalg::reference::inverse_upper_cholesky(want_u.view()) == CholeskyStatus::ok);
    CHECK(max_diff(u.view(), want_u.view()) <= 1e-11 * max_abs(want_u.view()));
    std::size_t bad = 0;
    for (std::size_t i = 0; i < n; ++i) {
      bad += !(u(i, i) > 0.0);
      for (std::size_t j = 0; j < i; ++j) bad += u(i, j) != 0.0;
    }
    CHECK(bad == 0);
    // Uᵀ·U·A = I.
    Tensor<double, 2> utu({n, n});
    pare::linalg::reference::gemm(1.0, TensorView<const double, 2>(u.view()).transposed(),
                                  TensorView<const double, 2>(u.view()), 0.0, utu.view());
    CHECK(distance_to_identity(utu.view(), a.view()) <= 1e-10);
  }
}

TEST_CASE("packed GEMM equals the reference on every arch, any strides", "[linalg]") {
  struct Case {
    std::size_t m, n, k;
  };
  // Tails of MR (8/6), NR (24/8/4), KC (256), MC (192), and one N past NC (2304 on AVX-512).
  const Case cases[] = {{1, 1, 1},    {7, 5, 3},    {9, 25, 17}, {13, 49, 300},
                        {200, 31, 7}, {3, 2400, 5}, {1, 1, 0}};
  pare::simd::for_each_arch([&](auto arch) {
    using Arch = decltype(arch);
    for (const Case& c : cases)
      for (bool overwrite : {true, false}) {
        INFO(arch_name(arch) << " " << c.m << "x" << c.n << "x" << c.k << " overwrite "
                             << overwrite);
        const auto a = random_matrix(c.k, c.m, c.m + c.k);  // A = aᵀ: a strided operand
        const auto b = random_matrix(c.k, c.n, c.n + 1);
        const auto c0 = random_matrix(c.m, c.n, 5);
        auto want = c0, got = c0;
        const auto at = TensorView<const double, 2>(a.view()).transposed();
        pare::linalg::reference::gemm(-0.5, at, TensorView<const double, 2>(b.view()),
                                      overwrite ? 0.0 : 1.0, want.view());
        pare::linalg::detail::gemm_driver<Arch>(
            c.m, c.n, c.k, -0.5, pare::linalg::detail::Operand<double>{at.data(), 1, at.stride(1)},
            pare::linalg::detail::Operand<double>{b.data(), b.view().stride(0), 1}, got.data(),
            static_cast<std::ptrdiff_t>(c.n), false, overwrite);
        CHECK(max_diff(got.view(), want.view()) <= 1e-12 * (1.0 + static_cast<double>(c.k)));
      }
  });
}

TEST_CASE("gemm and syrk_lower: beta, strided views, f32 inputs, checks", "[linalg]") {
  for (std::size_t n : {std::size_t{1}, std::size_t{7}, std::size_t{97}, std::size_t{203}}) {
    INFO("n = " << n);
    const std::size_t k = n + 11;
    // X as every other column of a wider matrix: a view with column stride 2.
    const auto wide = random_matrix(k, 2 * n, n);
    const auto x = TensorView<const double, 2>(wide.view())
                       .slice(1, 0, 2 * n - 1)
                       .transposed();  // [2n − 1, k] transposed view
    TensorView<const double, 2> xs(wide.data(), {k, n}, {static_cast<std::ptrdiff_t>(2 * n), 2});
    for (double beta : {0.0, 1.0, 0.25}) {
      INFO("beta = " << beta);
      const auto c0 = spd(n, 9);
      auto want = c0, got = c0;
      for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = i + 1; j < n; ++j) got(i, j) = want(i, j) = 42.0;
      pare::linalg::reference::syrk_lower(0.75, xs, beta, want.view());
      pare::linalg::syrk_lower(0.75, xs, beta, got.view());
      CHECK(max_diff(got.view(), want.view()) <= 1e-12 * max_abs(want.view()));
      CHECK((n == 1 || got(0, n - 1) == 42.0));

      Tensor<float, 2> xf({k, n});
      for (std::size_t p = 0; p < k; ++p)
        for (std::size_t j = 0; j < n; ++j) xf(p, j) = static_cast<float>(xs(p, j));
      auto wf = c0, gf = c0;
      pare::linalg::reference::syrk_lower(2.0, TensorView<const float, 2>(xf.view()), beta,
                                          wf.view());
      pare::linalg::syrk_lower(2.0, xf.view(), beta, gf.view());
      CHECK(max_diff(gf.view(), wf.view()) <= 1e-12 * max_abs(wf.view()));

      const auto b = random_matrix(k, n + 2, 3);
      const auto cg = random_matrix(x.extent(0), n + 2, 4);
      auto wg = cg, gg = cg;
      pare::linalg::reference::gemm(1.5, x, TensorView<const double, 2>(b.view()), beta, wg.view());
      pare::linalg::gemm(1.5, x, b.view(), beta, gg.view());
      CHECK(max_diff(gg.view(), wg.view()) <= 1e-12 * max_abs(wg.view()));
    }
  }
  Tensor<double, 2> sq({4, 4}), rect({4, 3});
  CHECK_THROWS_AS(pare::linalg::gemm(1.0, sq.view(), rect.view(), 0.0, sq.view()),
                  pare::ShapeError);
  CHECK_THROWS_AS(pare::linalg::syrk_lower(1.0, rect.view(), 0.0, sq.view()), pare::ShapeError);
  CHECK_THROWS_AS((void)pare::linalg::cholesky(rect.view()), pare::ShapeError);
  CHECK_THROWS_AS(pare::linalg::invert_lower(rect.view()), pare::ShapeError);
  CHECK_THROWS_AS((void)pare::linalg::inverse_upper_cholesky(rect.view()), pare::ShapeError);
  CHECK_THROWS_AS(pare::linalg::cholesky_inverse(sq.view(), rect.view()), pare::ShapeError);
}

TEST_CASE("the public routines take views with strided columns (scalar path)", "[linalg]") {
  const std::size_t n = 37;
  const auto a = spd(n, 21);
  // The same matrix as every other column of a [n, 2n] tensor.
  Tensor<double, 2> wide({n, 2 * n});
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j) wide(i, 2 * j) = a(i, j);
  TensorView<double, 2> v(wide.data(), {n, n}, {static_cast<std::ptrdiff_t>(2 * n), 2});
  auto want = a;
  REQUIRE(pare::linalg::cholesky(want.view()) == CholeskyStatus::ok);
  REQUIRE(pare::linalg::cholesky(v) == CholeskyStatus::ok);
  CHECK(max_diff(TensorView<const double, 2>(v), want.view()) <= 1e-13 * max_abs(want.view()));
}

TEST_CASE("LayerHessian accumulates 2/N XᵀX from f32 batches of any stride", "[linalg]") {
  pare::Rng rng(8);
  const std::size_t n = 301, d = 29;
  Tensor<float, 2> x({n, d + 3});
  for (float& v : x.span()) v = rng.normal();
  const auto xv = TensorView<const float, 2>(x.view()).slice(1, 2, d + 2);  // strided rows
  pare::LayerHessian h(d);
  h.add(xv.slice(0, 0, 100));
  h.add(xv.slice(0, 100, 101));
  h.add(xv.slice(0, 101, n));
  REQUIRE(h.samples() == n);
  for (std::size_t i = 0; i < d; ++i)
    for (std::size_t j = 0; j < d; ++j) {
      double s = 0;
      for (std::size_t r = 0; r < n; ++r) s += static_cast<double>(xv(r, i)) * xv(r, j);
      CHECK(h.matrix()(i, j) ==
            Approx(2.0 * s / static_cast<double>(n)).epsilon(1e-12).margin(1e-12));
    }
  Tensor<float, 2> bad({2, d});
  bad(1, 3) = std::numeric_limits<float>::infinity();
  const double before = h.matrix()(3, 3);
  CHECK_THROWS_AS(h.add(bad.view()), pare::ArgumentError);
  CHECK(h.matrix()(3, 3) == before);
  CHECK(h.samples() == n);
  CHECK_THROWS_AS(pare::LayerHessian(0), pare::ArgumentError);
}
