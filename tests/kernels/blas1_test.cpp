// SPDX-License-Identifier: Apache-2.0
#include "pare/kernels/blas1.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <vector>

#include "kernels/support.hpp"
#include "pare/core/random.hpp"
#include "pare/simd/arch.hpp"

using pare::TensorView;
namespace ref = pare::kernels::reference;
namespace test = pare::test;

namespace {

TensorView<const float, 1> cview(const std::vector<float>& v) { return {v.data(), {v.size()}}; }
TensorView<float, 1> mview(std::vector<float>& v) { return {v.data(), {v.size()}}; }

double abs_dot(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0;
  for (std::size_t i = 0; i < a.size(); ++i) s += std::abs(static_cast<double>(a[i]) * b[i]);
  return s;
}

// Each arch's Dot against the double-accumulated reference, within gamma_n * sum |a_i b_i|.
void check_dot_close(const std::vector<float>& a, const std::vector<float>& b) {
  const double expect = ref::dot(cview(a), cview(b));
  const double tol = test::dot_tolerance(a.size(), abs_dot(a, b));
  int archs = 0;
  pare::simd::for_each_arch([&](auto arch) {
    ++archs;
    const double got = pare::kernels::Dot{}(arch, a.data(), b.data(), a.size());
    INFO("arch " << decltype(arch)::name() << ", n = " << a.size());
    CHECK(std::abs(got - expect) <= tol);
  });
  REQUIRE(archs >= 1);
}

// When every partial sum is exact, every arch must reproduce the reference bit for bit.
void check_dot_exact(const std::vector<float>& a, const std::vector<float>& b) {
  const float expect = ref::dot(cview(a), cview(b));
  pare::simd::for_each_arch([&](auto arch) {
    INFO("arch " << decltype(arch)::name() << ", n = " << a.size());
    CHECK(pare::kernels::Dot{}(arch, a.data(), b.data(), a.size()) == expect);
  });
}

}  // namespace

TEST_CASE("Dot matches the reference on every arch and size", "[kernels][dot]") {
  pare::Rng rng(1);
  for (std::size_t n : test::sizes) {
    check_dot_close(test::normal(n, rng), test::normal(n, rng));
    check_dot_close(test::wide_range(n, rng), test::wide_range(n, rng));
    check_dot_exact(test::small_ints(n, rng), test::small_ints(n, rng));
  }
}

TEST_CASE("Dot handles zeros, subnormals, large magnitudes and overflow", "[kernels][dot]") {
  pare::Rng rng(2);
  for (std::size_t n : test::sizes) {
    const std::vector<float> zeros(n, 0.0f);
    check_dot_exact(zeros, test::normal(n, rng));
    // Subnormal times +-1: exact products, exact sums (see test::subnormals).
    std::vector<float> signs(n);
    for (auto& s : signs) s = rng.below(2) ? 1.0f : -1.0f;
    check_dot_exact(test::subnormals(n, rng), signs);
    // Subnormal times subnormal underflows to zero everywhere.
    check_dot_exact(test::subnormals(n, rng), test::subnormals(n, rng));
    // 1e15 * 1e15 terms: large but finite, relative error bound unchanged.
    check_dot_close(test::normal(n, rng, 1e15f), test::normal(n, rng, 1e15f));
    if (n == 0) continue;
    // 1e20 * 1e20 overflows float: every path must say +inf, not NaN or a wrapped value.
    const std::vector<float> big(n, 1e20f);
    pare::simd::for_each_arch([&](auto arch) {
      const float got = pare::kernels::Dot{}(arch, big.data(), big.data(), n);
      INFO("arch " << decltype(arch)::name() << ", n = " << n);
      CHECK(got == std::numeric_limits<float>::infinity());
    });
  }
}

TEST_CASE("Axpy matches the reference on every arch and size", "[kernels][axpy]") {
  pare::Rng rng(3);
  const auto u = test::unit_roundoff;
  for (std::size_t n : test::sizes) {
    for (float alpha : {0.0f, 1.0f, -2.5f, 0.37f}) {
      const auto x = test::wide_range(n, rng);
      const auto y0 = test::wide_range(n, rng);
      auto expect = y0;
      ref::axpy(alpha, cview(x), mview(expect));
      pare::simd::for_each_arch([&](auto arch) {
        auto y = y0;
        pare::kernels::Axpy{}(arch, alpha, x.data(), y.data(), n);
        INFO("arch " << decltype(arch)::name() << ", n = " << n << ", alpha = " << alpha);
        for (std::size_t i = 0; i < n; ++i) {
          // fl(alpha x + y) with or without FMA vs the once-rounded reference:
          // u|alpha x|(1+u) + u|alpha x + y| + u|alpha x + y| <= 4u (|alpha x| + |y|).
          const double ax = std::abs(static_cast<double>(alpha) * x[i]);
          const double tol = 4 * u * (ax + std::abs(y0[i])) + 2 * test::denorm_min;
          CHECK(std::abs(static_cast<double>(y[i]) - expect[i]) <= tol);
        }
      });
    }
    // Integers: exact on every path, and elements past n untouched.
    const auto x = test::small_ints(n, rng);
    auto y0 = test::small_ints(n, rng);
    auto expect = y0;
    ref::axpy(3.0f, cview(x), mview(expect));
    pare::simd::for_each_arch([&](auto arch) {
      std::vector<float> y = y0;
      y.push_back(42.0f);
      pare::kernels::Axpy{}(arch, 3.0f, x.data(), y.data(), n);
      INFO("arch " << decltype(arch)::name() << ", n = " << n);
      CHECK(std::vector<float>(y.begin(), y.end() - 1) == expect);
      CHECK(y.back() == 42.0f);
    });
  }
}

TEST_CASE("pare::dot and pare::axpy take the kernel or the reference by layout",
          "[kernels][dot][axpy]") {
  pare::Rng rng(4);
  for (std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{17}, std::size_t{1000}}) {
    const auto a = test::normal(n, rng);
    const auto b = test::normal(n, rng);
    const double tol = test::dot_tolerance(n, abs_dot(a, b));
    const double expect = ref::dot(cview(a), cview(b));
    CHECK(std::abs(pare::dot(cview(a), cview(b)) - expect) <= tol);

    // The same values at stride 2 (interleaved with NaN, which a wrong stride would pick up).
    std::vector<float> sa(2 * n, std::numeric_limits<float>::quiet_NaN()), sb = sa;
    for (std::size_t i = 0; i < n; ++i) {
      sa[2 * i] = a[i];
      sb[2 * i] = b[i];
    }
    TensorView<const float, 1> va(sa.data(), {n}, {2}), vb(sb.data(), {n}, {2});
    CHECK(std::abs(pare::dot(va, vb) - expect) <= tol);

    std::vector<float> y = b, ys = sb;
    pare::axpy(0.5f, cview(a), mview(y));
    pare::axpy(0.5f, va, TensorView<float, 1>(ys.data(), {n}, {2}));
    for (std::size_t i = 0; i < n; ++i) {
      const double tol_i = 4 * test::unit_roundoff * (std::abs(0.5 * a[i]) + std::abs(b[i]));
      CHECK(std::abs(static_cast<double>(y[i]) - (0.5 * a[i] + b[i])) <= tol_i);
      CHECK(ys[2 * i] == y[i]);  // both paths round 0.5 a + b once (exact product by 0.5)
      if (2 * i + 1 < ys.size()) CHECK(std::isnan(ys[2 * i + 1]));
    }
  }
}

TEST_CASE("pare::dot and pare::axpy reject mismatched shapes, naming both",
          "[kernels][dot][axpy]") {
  std::vector<float> a(3), b(4);
  CHECK_THAT(test::shape_error_of([&] { static_cast<void>(pare::dot(cview(a), cview(b))); }),
             Catch::Matchers::Contains("[3]") && Catch::Matchers::Contains("[4]") &&
                 Catch::Matchers::Contains("dot"));
  CHECK_THAT(test::shape_error_of([&] { pare::axpy(1.0f, cview(a), mview(b)); }),
             Catch::Matchers::Contains("[3]") && Catch::Matchers::Contains("[4]") &&
                 Catch::Matchers::Contains("axpy"));
}
