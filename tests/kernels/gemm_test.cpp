// SPDX-License-Identifier: Apache-2.0
#include "pare/kernels/gemm.hpp"
#include "pare/kernels/gemm_packed.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <string>
#include <tuple>
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

// Shapes around every tile edge: MR = 6, NR = 8/16/32 by arch, KC = 256, MC = 96.
const std::vector<std::tuple<std::size_t, std::size_t, std::size_t>> shapes = {
    {1, 1, 1},   {1, 17, 3},   {5, 1, 9},    {6, 32, 1},    {7, 33, 5},     {13, 15, 31},
    {2, 64, 64}, {17, 31, 65}, {97, 9, 3},   {3, 130, 257}, {101, 67, 513}, {12, 48, 256},
    {96, 32, 7}, {1, 200, 40}, {40, 1, 200}, {25, 2100, 2}};

// Debug + sanitizer builds skip the largest products (they cross the same tile edges).
bool in_sweep(std::size_t m, std::size_t n, std::size_t k) {
  return PARE_FULL_SWEEP || m * n * k <= 150000;
}

/// A matrix stored with row stride ld >= cols; the padding is NaN so a kernel that reads past a
/// row's end poisons its result.
struct Padded {
  std::vector<float> data;
  TensorView<float, 2> view;
};

Padded padded(std::size_t rows, std::size_t cols, std::size_t ld, pare::Rng& rng, bool ints) {
  Padded p{std::vector<float>(std::max<std::size_t>(rows * ld, 1),
                              std::numeric_limits<float>::quiet_NaN()),
           {}};
  p.view = TensorView<float, 2>(p.data.data(), {rows, cols}, {static_cast<std::ptrdiff_t>(ld), 1});
  const auto v = ints ? test::small_ints(rows * cols, rng) : test::normal(rows * cols, rng);
  for (std::size_t i = 0; i < rows; ++i)
    for (std::size_t j = 0; j < cols; ++j) p.view(i, j) = v[i * cols + j];
  return p;
}

/// Entrywise |M| as a contiguous matrix.
Tensor<float, 2> abs_of(TensorView<const float, 2> m) {
  Tensor<float, 2> out(m.extents());
  for (std::size_t i = 0; i < m.extent(0); ++i)
    for (std::size_t j = 0; j < m.extent(1); ++j) out(i, j) = std::abs(m(i, j));
  return out;
}

/// Every entry of `got` equals the reference (exact data) or is within the float GEMM bound
/// gamma_{k+2} · (|alpha|·Σ_p |a_ip b_pj| + |beta c_ij|) of it. One assertion per matrix: a
/// million REQUIREs would dominate the run time under sanitizers.
void check_close(TensorView<const float, 2> a, TensorView<const float, 2> b,
                 TensorView<const float, 2> got, TensorView<const float, 2> expect,
                 TensorView<const float, 2> c_old, float alpha, float beta, bool exact) {
  Tensor<float, 2> abs_sum(got.extents());
  ref::gemm(abs_of(a), abs_of(b), abs_sum.view());
  std::size_t bad = 0;
  std::string first;
  for (std::size_t i = 0; i < got.extent(0); ++i)
    for (std::size_t j = 0; j < got.extent(1); ++j) {
      const double err = std::abs(static_cast<double>(got(i, j)) - expect(i, j));
      const double old = beta != 0.0f ? std::abs(static_cast<double>(beta) * c_old(i, j)) : 0.0;
      const double scaled = std::abs(static_cast<double>(alpha)) * abs_sum(i, j) + old;
      const double tol =
          exact ? 0.0
                : test::dot_tolerance(a.extent(1) + 2, scaled) + 4 * test::unit_roundoff * scaled;
      if (!(err <= tol)) {
        if (bad++ == 0)
          first = "C(" + std::to_string(i) + ", " + std::to_string(j) +
                  ") = " + std::to_string(got(i, j)) + ", expected " + std::to_string(expect(i, j));
      }
    }
  INFO(first);
  REQUIRE(bad == 0);
}

}  // namespace

TEST_CASE("GemmTuned matches the reference on every arch, odd shapes and strides",
          "[kernels][gemm]") {
  pare::Rng rng(11);
  for (auto [m, n, k] : shapes) {
    if (!in_sweep(m, n, k)) continue;
    for (bool ints : {false, true}) {
      const auto a = padded(m, k, k + 3, rng, ints);
      const auto b = padded(k, n, n + 5, rng, ints);
      for (auto [alpha, beta] : {std::pair{1.0f, 0.0f}, std::pair{-0.5f, 2.0f}}) {
        const auto c0 = padded(m, n, n + 1, rng, ints);
        Tensor<float, 2> expect(c0.view);
        ref::gemm(a.view, b.view, expect.view(), alpha, beta);
        pare::simd::for_each_arch([&](auto arch) {
          using Arch = decltype(arch);
          INFO("arch " << Arch::name() << ", M N K " << m << " " << n << " " << k << " alpha "
                       << alpha << " beta " << beta << (ints ? " ints" : " normal"));
          Padded c = c0;
          c.view = TensorView<float, 2>(c.data.data(), c0.view.extents(), c0.view.strides());
          if (beta == 0.0f)  // beta = 0 must not read C: NaN there must not propagate
            for (std::size_t i = 0; i < m; ++i)
              for (std::size_t j = 0; j < n; ++j)
                c.view(i, j) = std::numeric_limits<float>::quiet_NaN();
          Tensor<float, 1> ws({pare::kernels::Gemm::workspace_size<Arch>()});
          pare::kernels::Gemm{}(arch, m, n, k, alpha, {a.view.data(), a.view.stride(0), 1},
                                {b.view.data(), b.view.stride(0), 1}, beta, c.view.data(),
                                c.view.stride(0), ws.data());
          check_close(a.view, b.view, c.view, expect.view(), c0.view, alpha, beta, ints);
          // The row padding of C is untouched.
          std::size_t touched = 0;
          for (std::size_t i = 0; i < m; ++i) touched += !std::isnan(c.data[i * (n + 1) + n]);
          REQUIRE(touched == 0);
        });
      }
    }
  }
}

TEST_CASE("gemm, gemm_nt and gemm_tn agree with the reference on transposed operands",
          "[kernels][gemm]") {
  pare::Rng rng(12);
  for (auto [m, n, k] : shapes) {
    if (!in_sweep(m, n, k)) continue;
    INFO("M N K " << m << " " << n << " " << k);
    const Tensor<float, 2> a(padded(m, k, k, rng, false).view);
    const Tensor<float, 2> at(padded(k, m, m, rng, false).view);
    const Tensor<float, 2> b(padded(k, n, n, rng, false).view);
    const Tensor<float, 2> bt(padded(n, k, k, rng, false).view);
    const Tensor<float, 2> c0(padded(m, n, n, rng, false).view);
    Tensor<float, 2> expect = c0, got = c0;

    ref::gemm(a, b, expect.view(), 0.75f, 0.5f);
    pare::gemm(a, b, got.view(), 0.75f, 0.5f);
    check_close(a, b, got, expect, c0, 0.75f, 0.5f, false);

    expect = c0;
    got = c0;
    ref::gemm(a, bt.view().transposed(), expect.view(), 1.0f, 1.0f);
    pare::gemm_nt(a, bt, got.view(), 1.0f, 1.0f);
    check_close(a, bt.view().transposed(), got, expect, c0, 1.0f, 1.0f, false);

    ref::gemm(at.view().transposed(), b, expect.view());
    pare::gemm_tn(at, b, got.view());
    check_close(at.view().transposed(), b, got, expect, c0, 1.0f, 0.0f, false);

    // A column-major C (a transposed view) goes through Cᵀ = Bᵀ Aᵀ.
    Tensor<float, 2> ct({n, m});
    ref::gemm(a, b, expect.view());
    pare::gemm(a, b, ct.view().transposed());
    check_close(a, b, ct.view().transposed(), expect, c0, 1.0f, 0.0f, false);
  }
}

TEST_CASE("gemm handles empty and K = 0 products", "[kernels][gemm]") {
  Tensor<float, 2> a({3, 0}), b({0, 4}), c({3, 4}, 2.0f);
  pare::gemm(a, b, c.view(), 1.0f, 0.5f);
  for (float v : c.span()) CHECK(v == 1.0f);
  pare::gemm(a, b, c.view());
  for (float v : c.span()) CHECK(v == 0.0f);
  Tensor<float, 2> e0({0, 5}), e1({5, 2}), e2({0, 2});
  pare::gemm(e0, e1, e2.view());  // nothing to do, no crash
}

TEST_CASE("gemm names all three shapes when they disagree", "[kernels][gemm]") {
  Tensor<float, 2> a({3, 4}), b({5, 6}), c({3, 6});
  CHECK(test::shape_error_of([&] { pare::gemm(a, b, c.view()); }) ==
        "gemm: A [3, 4] · B [5, 6] -> C [3, 6]");
  CHECK_THROWS_AS(pare::gemm_nt(a, b, c.view()), pare::ShapeError);
  CHECK_THROWS_AS(pare::gemm_tn(a, b, c.view()), pare::ShapeError);
  Tensor<float, 2> w({6, 4});
  CHECK_NOTHROW(pare::gemm_nt(a, w, c.view()));
  Tensor<float, 2> g({3, 6}), dw({6, 4});
  CHECK_NOTHROW(pare::gemm_tn(g, a, dw.view()));
}

TEST_CASE("PackedGemmB equals the reference with and without a bias, on plain and transposed B",
          "[kernels][gemm]") {
  pare::Rng rng(13);
  for (auto [m, n, k] : shapes) {
    if (!in_sweep(m, n, k)) continue;
    const auto a = padded(m, k, k + 3, rng, false);
    const auto b = padded(k, n, n + 5, rng, false);
    const auto bt = padded(n, k, k, rng, false);
    std::vector<float> bias(n);
    for (float& v : bias) v = rng.normal();
    for (bool transposed : {false, true}) {
      const TensorView<const float, 2> bv = transposed ? bt.view.transposed() : b.view;
      const pare::PackedGemmB packed(bv);
      for (bool with_bias : {false, true}) {
        INFO("M N K " << m << " " << n << " " << k << (transposed ? " Bᵀ" : "")
                      << (with_bias ? " bias" : ""));
        Tensor<float, 2> expect({m, n});
        for (std::size_t i = 0; i < m; ++i)
          for (std::size_t j = 0; j < n; ++j) expect(i, j) = with_bias ? bias[j] : 0.0f;
        ref::gemm(a.view, bv, expect.view(), 1.0f, 1.0f);
        Tensor<float, 2> c({m, n}, std::numeric_limits<float>::quiet_NaN());
        packed.multiply(a.view, c.view(), with_bias ? bias.data() : nullptr);
        for (std::size_t i = 0; i < m; ++i)
          for (std::size_t j = 0; j < n; ++j) {
            double mag = with_bias ? std::fabs(bias[j]) : 0.0;
            for (std::size_t p = 0; p < k; ++p) mag += std::fabs(a.view(i, p) * bv(p, j));
            REQUIRE(std::fabs(c(i, j) - expect(i, j)) <= 1e-6 * (mag + 1.0) * (k + 1));
          }
      }
    }
  }
  const pare::PackedGemmB packed(Tensor<float, 2>({3, 4}, 1.0f).view());
  Tensor<float, 2> a({2, 5}), c({2, 4});
  CHECK_THROWS_AS(packed.multiply(a.view(), c.view()), pare::ShapeError);
}
