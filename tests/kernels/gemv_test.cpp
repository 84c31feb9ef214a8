// SPDX-License-Identifier: Apache-2.0
#include "pare/kernels/gemv.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <utility>
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

const std::vector<std::pair<std::size_t, std::size_t>> shapes = {
    {0, 0},    {0, 5},    {5, 0},    {1, 1},   {1, 16},   {3, 17},   {4, 32},
    {5, 31},   {7, 64},   {17, 3},   {8, 33},  {65, 129}, {9, 1023}, {257, 1000},
    {131, 65}, {2, 4096}, {6, 4097}, {9, 5003}};  // the last two take Gemv's long-row (4-row block)
                                                  // path

enum class Data { normal, wide, ints };

std::vector<float> make(std::size_t n, pare::Rng& rng, Data d) {
  switch (d) {
    case Data::normal:
      return test::normal(n, rng);
    case Data::wide:
      return test::wide_range(n, rng);
    case Data::ints:
      return test::small_ints(n, rng);
  }
  return {};
}

// W stored with leading dimension ld >= cols; the padding is NaN, so a kernel that reads past a
// row's end poisons that row's result.
void check_gemv(std::size_t rows, std::size_t cols, std::size_t ld, Data d, pare::Rng& rng) {
  std::vector<float> w(rows * ld, std::numeric_limits<float>::quiet_NaN());
  for (std::size_t r = 0; r < rows; ++r) {
    const auto row = make(cols, rng, d);
    std::copy(row.begin(), row.end(), w.begin() + static_cast<std::ptrdiff_t>(r * ld));
  }
  const auto x = make(cols, rng, d);
  const TensorView<const float, 2> wv(w.data(), {rows, cols}, {static_cast<std::ptrdiff_t>(ld), 1});
  const TensorView<const float, 1> xv(x.data(), {cols});
  std::vector<float> expect(rows);
  ref::gemv(wv, xv, TensorView<float, 1>(expect.data(), {rows}));

  pare::simd::for_each_arch([&](auto arch) {
    std::vector<float> y(rows + 1, -7.0f);  // one sentinel past the end
    pare::kernels::Gemv{}(arch, w.data(), rows, cols, ld, x.data(), y.data());
    INFO("arch " << decltype(arch)::name() << ", W " << rows << "x" << cols << " ld " << ld);
    CHECK(y[rows] == -7.0f);
    for (std::size_t r = 0; r < rows; ++r) {
      double abs_sum = 0;
      for (std::size_t c = 0; c < cols; ++c)
        abs_sum += std::abs(static_cast<double>(wv(r, c)) * x[c]);
      INFO("row " << r);
      if (d == Data::ints)
        CHECK(y[r] == expect[r]);
      else
        CHECK(std::abs(static_cast<double>(y[r]) - expect[r]) <=
              test::dot_tolerance(cols, abs_sum));
    }
  });
}

}  // namespace

TEST_CASE("Gemv matches the reference on every arch, shape and leading dimension",
          "[kernels][gemv]") {
  pare::Rng rng(10);
  for (auto [rows, cols] : shapes) {
    for (std::size_t pad : {0, 1, 16}) {
      for (Data d : {Data::normal, Data::wide, Data::ints})
        check_gemv(rows, cols, cols + pad, d, rng);
    }
  }
}

TEST_CASE("Gemv handles zeros, subnormals and large magnitudes", "[kernels][gemv]") {
  pare::Rng rng(11);
  for (auto [rows, cols] : {std::pair<std::size_t, std::size_t>{5, 33}, {17, 3}, {65, 129}}) {
    // Subnormal W times x = +-1: exact (see test::subnormals); zero x gives exact zeros.
    std::vector<float> w(rows * cols);
    for (std::size_t r = 0; r < rows; ++r) {
      const auto row = test::subnormals(cols, rng);
      std::copy(row.begin(), row.end(), w.begin() + static_cast<std::ptrdiff_t>(r * cols));
    }
    std::vector<float> signs(cols), zeros(cols, 0.0f);
    for (auto& s : signs) s = rng.below(2) ? 1.0f : -1.0f;
    const TensorView<const float, 2> wv(w.data(), {rows, cols});
    std::vector<float> expect(rows);
    ref::gemv(wv, {signs.data(), {cols}}, {expect.data(), {rows}});
    pare::simd::for_each_arch([&](auto arch) {
      INFO("arch " << decltype(arch)::name() << ", W " << rows << "x" << cols);
      std::vector<float> y(rows);
      pare::kernels::Gemv{}(arch, w.data(), rows, cols, cols, signs.data(), y.data());
      CHECK(y == expect);
      pare::kernels::Gemv{}(arch, w.data(), rows, cols, cols, zeros.data(), y.data());
      CHECK(y == std::vector<float>(rows, 0.0f));
    });
    // 1e18 * 1e18 = 1e36 per term: finite sums, relative bound unchanged.
    std::vector<float> big_w = test::normal(rows * cols, rng, 1e18f),
                       big_x = test::normal(cols, rng, 1e18f);
    ref::gemv({big_w.data(), {rows, cols}}, {big_x.data(), {cols}}, {expect.data(), {rows}});
    pare::simd::for_each_arch([&](auto arch) {
      std::vector<float> y(rows);
      pare::kernels::Gemv{}(arch, big_w.data(), rows, cols, cols, big_x.data(), y.data());
      for (std::size_t r = 0; r < rows; ++r) {
        double abs_sum = 0;
        for (std::size_t c = 0; c < cols; ++c)
          abs_sum += std::abs(static_cast<double>(big_w[r * cols + c]) * big_x[c]);
        INFO("arch " << decltype(arch)::name() << ", row " << r);
        CHECK(std::isfinite(y[r]));
        CHECK(std::abs(static_cast<double>(y[r]) - expect[r]) <=
              test::dot_tolerance(cols, abs_sum));
      }
    });
  }
}

TEST_CASE("pare::gemv takes row-strided W fast and other layouts through the reference",
          "[kernels][gemv]") {
  pare::Rng rng(12);
  const std::size_t rows = 37, cols = 45;
  Tensor<float, 2> big({rows + 3, cols + 11});
  for (auto& v : big.span()) v = rng.normal();
  Tensor<float, 1> x({cols});
  for (auto& v : x.span()) v = rng.normal();

  const auto check_against_copy = [&](TensorView<const float, 2> w, TensorView<const float, 1> xv) {
    const Tensor<float, 2> wc(w);  // contiguous copy, an independent route to the same product
    const Tensor<float, 1> xc(xv);
    Tensor<float, 1> expect({w.extent(0)}), got({w.extent(0)});
    ref::gemv(wc, xc, expect);
    pare::gemv(w, xv, got);
    for (std::size_t r = 0; r < w.extent(0); ++r) {
      double abs_sum = 0;
      for (std::size_t c = 0; c < w.extent(1); ++c)
        abs_sum += std::abs(static_cast<double>(wc(r, c)) * xc(c));
      CHECK(std::abs(static_cast<double>(got(r)) - expect(r)) <=
            test::dot_tolerance(w.extent(1), abs_sum));
    }
  };
  // A block of a larger matrix: rows contiguous, row stride cols + 11.
  const TensorView<const float, 2> block =
      TensorView<const float, 2>(big).slice(0, 1, rows + 1).slice(1, 2, cols + 2);
  check_against_copy(block, x);
  // Transposed: columns contiguous instead, so the reference path.
  const TensorView<const float, 2> t = TensorView<const float, 2>(big).transposed();
  Tensor<float, 1> xt({t.extent(1)});
  for (auto& v : xt.span()) v = rng.normal();
  check_against_copy(t, xt);
  // Fully contiguous.
  Tensor<float, 1> xf({big.extent(1)});
  for (auto& v : xf.span()) v = rng.normal();
  check_against_copy(big, xf);
  // Strided x: every other element of a longer vector.
  Tensor<float, 1> x2({2 * cols});
  for (auto& v : x2.span()) v = rng.normal();
  check_against_copy(block, TensorView<const float, 1>(x2.data(), {cols}, {2}));

  // A strided y receives the product at its stride and leaves the gaps alone.
  Tensor<float, 1> y2({2 * rows}, -1.0f), expect({rows});
  pare::gemv(block, x, TensorView<float, 1>(y2.data(), {rows}, {2}));
  ref::gemv(block, x, expect);
  for (std::size_t r = 0; r < rows; ++r) {
    double abs_sum = 0;
    for (std::size_t c = 0; c < cols; ++c)
      abs_sum += std::abs(static_cast<double>(block(r, c)) * x(c));
    CHECK(std::abs(static_cast<double>(y2(2 * r)) - expect(r)) <=
          test::dot_tolerance(cols, abs_sum));
    CHECK(y2(2 * r + 1) == -1.0f);
  }
}

TEST_CASE("pare::gemv rejects mismatched shapes, naming all three", "[kernels][gemv]") {
  Tensor<float, 2> w({3, 4});
  Tensor<float, 1> x4({4}), x5({5}), y3({3}), y2({2});
  CHECK_NOTHROW(pare::gemv(w, x4, y3));
  CHECK_THAT(test::shape_error_of([&] { pare::gemv(w, x5, y3); }),
             Catch::Matchers::Contains("[3, 4]") && Catch::Matchers::Contains("[5]") &&
                 Catch::Matchers::Contains("[3]"));
  CHECK_THAT(test::shape_error_of([&] { pare::gemv(w, x4, y2); }),
             Catch::Matchers::Contains("[3, 4]") && Catch::Matchers::Contains("[2]"));
}

TEST_CASE("Every GemvTuned configuration is exact on integer data", "[kernels][gemv]") {
  pare::Rng rng(13);
  for (auto [rows, cols] : shapes) {
    const auto w = test::small_ints(rows * cols, rng);
    const auto x = test::small_ints(cols, rng);
    std::vector<float> expect(rows);
    ref::gemv({w.data(), {rows, cols}}, {x.data(), {cols}}, {expect.data(), {rows}});
    pare::simd::for_each_arch([&](auto arch) {
      const auto run = [&](auto kernel, const char* name) {
        std::vector<float> y(rows, -1.0f);
        kernel(arch, w.data(), rows, cols, cols, x.data(), y.data());
        INFO("arch " << decltype(arch)::name() << ", " << name << ", W " << rows << "x" << cols);
        CHECK(y == expect);
      };
      run(pare::kernels::GemvTuned<1, 4, 0>{}, "r1u4");
      run(pare::kernels::GemvTuned<2, 4, 1024>{}, "r2u4pf1k");
      run(pare::kernels::GemvTuned<4, 1, 0>{}, "r4u1");
      run(pare::kernels::GemvTuned<8, 2, 0>{}, "r8u2");
      run(pare::kernels::GemvTuned<4, 2, 512>{}, "r4u2pf512");
    });
  }
}
