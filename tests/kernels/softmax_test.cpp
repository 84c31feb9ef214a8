// SPDX-License-Identifier: Apache-2.0
#include "pare/kernels/softmax.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <vector>

#include "kernels/support.hpp"
#include "pare/core/random.hpp"
#include "pare/core/tensor.hpp"
#include "pare/simd/arch.hpp"

using pare::Tensor;
using pare::TensorView;
namespace ref = pare::kernels::reference;
namespace test = pare::test;

namespace {

constexpr float inf = std::numeric_limits<float>::infinity();
constexpr double u = test::unit_roundoff;
// xsimd::exp's float error, measured over [-104, 0] on avx512bw, fma3+avx2 and sse2: <= 1.51 ulp,
// i.e. < 3u relative. Results below 2^-126 are flushed to zero (absolute error < 2^-126).
constexpr double exp_rel = 3 * u;

TensorView<const float, 1> cview(const std::vector<float>& v) { return {v.data(), {v.size()}}; }
TensorView<float, 1> mview(std::vector<float>& v) { return {v.data(), {v.size()}}; }

// Error analysis of exp(x_i - m) / s against a reference computed in double:
//  - fl(x_i - m) has relative error u, i.e. absolute u|x_i - m|, which exp turns into relative
//    error u|x_i - m|; exp itself adds exp_rel;
//  - the sum s of n terms e_j(1 + eps_j) has relative error gamma_n + exp_rel + u sum e_j|x_j - m|
//  / s,
//    and e^-t t <= 1/e bounds the last by n u / e (s >= 1 because the max term is exp(0) = 1);
//  - the division and the reference's own rounding add u each.
double softmax_sum_rel(std::size_t n) {
  return test::gamma(n) + exp_rel + static_cast<double>(n) * u / 2.718;
}

double softmax_tol(double shifted, double expect, std::size_t n) {
  return (u * std::abs(shifted) + exp_rel + softmax_sum_rel(n) + 2 * u) * expect + 0x1.0p-125;
}

// log: y = fl(fl(x_i - m) - fl(log s')); |log s' - log s| <= rel(s') (1 + rel), std::log adds
// 2u|log s|, the subtraction u|y|, fl(x_i - m) u|x_i - m|, the reference u|y|.
double log_softmax_tol(double shifted, double expect, double log_s, std::size_t n) {
  return u * std::abs(shifted) + 2 * u * std::abs(expect) + 2 * u * std::abs(log_s) +
         1.01 * softmax_sum_rel(n);
}

void check_softmax(const std::vector<float>& x) {
  const std::size_t n = x.size();
  std::vector<float> expect(n), expect_log(n);
  ref::softmax(cview(x), mview(expect));
  ref::log_softmax(cview(x), mview(expect_log));
  const double m = n ? *std::max_element(x.begin(), x.end()) : 0.0;
  double s = 0;
  for (float v : x) s += std::exp(v - m);
  const double log_s = std::log(s);
  double max_shift = 0;
  for (float v : x)
    if (std::isfinite(v)) max_shift = std::max(max_shift, m - v);

  pare::simd::for_each_arch([&](auto arch) {
    INFO("arch " << decltype(arch)::name() << ", n = " << n);
    std::vector<float> y(n + 1, -3.0f), z(n + 1, -3.0f);  // one sentinel past the end
    pare::kernels::Softmax{}(arch, x.data(), y.data(), n);
    pare::kernels::LogSoftmax{}(arch, x.data(), z.data(), n);
    CHECK(y[n] == -3.0f);
    CHECK(z[n] == -3.0f);
    double total = 0;
    for (std::size_t i = 0; i < n; ++i) {
      INFO("i = " << i << ", x = " << x[i]);
      total += y[i];
      REQUIRE(std::isfinite(y[i]));
      CHECK(y[i] >= 0.0f);
      CHECK(y[i] <= 1.0f);
      if (x[i] == -inf) {
        CHECK(y[i] == 0.0f);
        CHECK(z[i] == -inf);
        continue;
      }
      const double shifted = static_cast<double>(x[i]) - m;
      CHECK(std::abs(static_cast<double>(y[i]) - expect[i]) <= softmax_tol(shifted, expect[i], n));
      CHECK(std::abs(static_cast<double>(z[i]) - expect_log[i]) <=
            log_softmax_tol(shifted, expect_log[i], log_s, n));
    }
    // Every y_i is within softmax_tol of its reference, and the references sum to 1 within n u.
    if (n > 0)
      CHECK(std::abs(total - 1.0) <= u * max_shift + exp_rel + softmax_sum_rel(n) + 2 * u +
                                         static_cast<double>(n) * (u + 0x1.0p-125));
  });
}

}  // namespace

TEST_CASE("Softmax and LogSoftmax match the reference on every arch and size",
          "[kernels][softmax]") {
  pare::Rng rng(20);
  for (std::size_t n : test::sizes) {
    check_softmax(test::normal(n, rng));
    check_softmax(test::normal(n, rng, 10.0f));
    check_softmax(test::normal(n, rng, 40.0f));  // many terms underflow to 0
  }
}

TEST_CASE("Softmax stays finite for huge, equal and -inf logits", "[kernels][softmax]") {
  pare::Rng rng(21);
  for (std::size_t n : test::sizes) {
    if (n == 0) continue;
    // +-1e4 mixed with ordinary values: the max is subtracted, nothing overflows.
    std::vector<float> x(n);
    for (auto& v : x) v = rng.below(3) == 0 ? 1e4f : (rng.below(2) ? -1e4f : rng.normal());
    check_softmax(x);
    std::vector<float> neg(n, -1e4f);
    neg[rng.below(n)] = -1e4f + 1.5f;
    check_softmax(neg);
    // -inf entries get probability exactly 0 (and log-probability -inf); keep one finite entry.
    std::vector<float> masked = test::normal(n, rng);
    for (std::size_t i = 0; i < n; ++i)
      if (rng.below(3) == 0) masked[i] = -inf;
    masked[rng.below(n)] = 0.5f;
    check_softmax(masked);
    // Equal logits: exp(0) = 1 exactly, the sum is n exactly, so every y_i is 1/n rounded once.
    for (float c : {0.0f, 3.7f, 1e4f, -1e4f}) {
      const std::vector<float> eq(n, c);
      pare::simd::for_each_arch([&](auto arch) {
        INFO("arch " << decltype(arch)::name() << ", n = " << n << ", c = " << c);
        std::vector<float> y(n), z(n);
        pare::kernels::Softmax{}(arch, eq.data(), y.data(), n);
        pare::kernels::LogSoftmax{}(arch, eq.data(), z.data(), n);
        CHECK(y == std::vector<float>(n, 1.0f / static_cast<float>(n)));
        CHECK(z == std::vector<float>(n, -std::log(static_cast<float>(n))));
      });
    }
  }
}

TEST_CASE("Softmax of one element is 1, of nothing is nothing, of all -inf is NaN",
          "[kernels][softmax]") {
  pare::simd::for_each_arch([&](auto arch) {
    INFO("arch " << decltype(arch)::name());
    for (float v : {0.0f, -1e4f, 1e4f, 3.0f}) {
      float y = -1, z = -1;
      pare::kernels::Softmax{}(arch, &v, &y, 1);
      pare::kernels::LogSoftmax{}(arch, &v, &z, 1);
      CHECK(y == 1.0f);
      CHECK(z == 0.0f);
    }
    float sentinel = -1;
    pare::kernels::Softmax{}(arch, nullptr, &sentinel, 0);
    CHECK(sentinel == -1.0f);
    // Documented: no finite maximum means no distribution (PyTorch gives NaN too).
    const std::vector<float> all_masked(19, -inf);
    std::vector<float> y(19), z(19);
    pare::kernels::Softmax{}(arch, all_masked.data(), y.data(), 19);
    pare::kernels::LogSoftmax{}(arch, all_masked.data(), z.data(), 19);
    CHECK(std::all_of(y.begin(), y.end(), [](float v) { return std::isnan(v); }));
    CHECK(std::all_of(z.begin(), z.end(), [](float v) { return std::isnan(v); }));
  });
}

TEST_CASE("Softmax works in place", "[kernels][softmax]") {
  pare::Rng rng(22);
  const auto x = test::normal(67, rng, 5.0f);
  pare::simd::for_each_arch([&](auto arch) {
    INFO("arch " << decltype(arch)::name());
    std::vector<float> expect(67), in_place = x;
    pare::kernels::Softmax{}(arch, x.data(), expect.data(), 67);
    pare::kernels::Softmax{}(arch, in_place.data(), in_place.data(), 67);
    CHECK(in_place == expect);
    in_place = x;
    pare::kernels::LogSoftmax{}(arch, x.data(), expect.data(), 67);
    pare::kernels::LogSoftmax{}(arch, in_place.data(), in_place.data(), 67);
    CHECK(in_place == expect);
  });
}

TEST_CASE("pare::softmax and pare::log_softmax: vectors, rows, strided views",
          "[kernels][softmax]") {
  pare::Rng rng(23);
  const std::size_t rows = 9, cols = 37;
  Tensor<float, 2> x({rows, cols});
  for (auto& v : x.span()) v = 4 * rng.normal();

  Tensor<float, 2> y({rows, cols}), z({rows, cols});
  pare::softmax(x, y);
  pare::log_softmax(x, z);
  // Transposed views: rows not contiguous, so the reference path; same numbers within tolerance.
  Tensor<float, 2> yt({cols, rows}), zt({cols, rows});
  pare::softmax(TensorView<const float, 2>(x), TensorView<float, 2>(yt).transposed());
  pare::log_softmax(TensorView<const float, 2>(x), TensorView<float, 2>(zt).transposed());
  for (std::size_t r = 0; r < rows; ++r) {
    std::vector<float> row(x[r].data(), x[r].data() + cols), e(cols), el(cols), y1(cols), z1(cols);
    ref::softmax(cview(row), mview(e));
    ref::log_softmax(cview(row), mview(el));
    pare::softmax(cview(row), mview(y1));
    pare::log_softmax(cview(row), mview(z1));
    for (std::size_t c = 0; c < cols; ++c) {
      INFO("row " << r << ", col " << c);
      CHECK(y(r, c) == y1[c]);  // row-wise 2-D = 1-D on each row (same kernel)
      CHECK(z(r, c) == z1[c]);
      CHECK(std::abs(y(r, c) - e[c]) <= 1e-5f * e[c] + 1e-30f);  // << softmax_tol for n = 37
      CHECK(std::abs(z(r, c) - el[c]) <= 1e-5f * (1 + std::abs(el[c])));
      CHECK(yt(c, r) == e[c]);  // reference path on the transposed view is the reference
      CHECK(zt(c, r) == el[c]);
    }
  }
  // A strided 1-D view (every third element) gives the reference result.
  std::vector<float> s(3 * cols, std::numeric_limits<float>::quiet_NaN()), out(3 * cols, -1.0f);
  std::vector<float> dense(cols), e(cols);
  for (std::size_t i = 0; i < cols; ++i) s[3 * i] = dense[i] = rng.normal();
  pare::softmax(TensorView<const float, 1>(s.data(), {cols}, {3}),
                TensorView<float, 1>(out.data(), {cols}, {3}));
  ref::softmax(cview(dense), mview(e));
  for (std::size_t i = 0; i < cols; ++i) {
    CHECK(out[3 * i] == e[i]);
    CHECK(out[3 * i + 1] == -1.0f);
  }
}

TEST_CASE("pare::softmax rejects mismatched shapes, naming both", "[kernels][softmax]") {
  Tensor<float, 1> a({3}), b({4});
  Tensor<float, 2> m({2, 3}), n({3, 2});
  CHECK_THAT(test::shape_error_of([&] { pare::softmax(a, b); }),
             Catch::Matchers::Contains("[3]") && Catch::Matchers::Contains("[4]"));
  CHECK_THAT(test::shape_error_of([&] { pare::log_softmax(a, b); }),
             Catch::Matchers::Contains("log_softmax"));
  CHECK_THAT(test::shape_error_of([&] { pare::softmax(m, n); }),
             Catch::Matchers::Contains("[2, 3]") && Catch::Matchers::Contains("[3, 2]"));
  CHECK_THROWS_AS(pare::log_softmax(m, n), pare::ShapeError);
}
