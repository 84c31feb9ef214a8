// SPDX-License-Identifier: Apache-2.0
// Run-time ISA dispatch: every public kernel entry gives the right answer on every tier this CPU
// runs (simd::TierLimit caps the choice), and data packed on one tier keeps working when the cap
// changes later.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "pare/core/random.hpp"
#include "pare/core/tensor.hpp"
#include "pare/kernels/blas1.hpp"
#include "pare/kernels/conv2d_packed.hpp"
#include "pare/kernels/gemm.hpp"
#include "pare/kernels/gemm_packed.hpp"
#include "pare/kernels/gemv.hpp"
#include "pare/simd/dispatch.hpp"
#include "support.hpp"

namespace {

using pare::simd::Tier;

// The tiers this process can dispatch to, best first.
std::vector<Tier> tiers() {
  std::vector<Tier> out;
  const Tier best = pare::simd::active_tier();
  for (Tier t : {Tier::avx512, Tier::avx2, Tier::sse2})
    if (t <= best && pare::simd::has_simd) out.push_back(t);
  return out;
}

std::vector<float> randoms(std::size_t n, pare::Rng& rng, float scale = 1.0f) {
  return pare::test::normal(n, rng, scale);
}

// y[o, p] of a convolution of one sample, in double, straight from the definition.
std::vector<double> conv_reference(const pare::Conv2dGeometry& g, const std::vector<float>& x,
                                   const std::vector<float>& w, const std::vector<float>& b) {
  const std::size_t oh = g.out_h(), ow = g.out_w(), cg = g.in_channels / g.groups,
                    og = g.out_channels / g.groups;
  std::vector<double> y(g.out_channels * oh * ow);
  for (std::size_t o = 0; o < g.out_channels; ++o)
    for (std::size_t i = 0; i < oh; ++i)
      for (std::size_t j = 0; j < ow; ++j) {
        double s = b[o];
        const std::size_t grp = o / og;
        for (std::size_t c = 0; c < cg; ++c)
          for (std::size_t ki = 0; ki < g.kernel_h; ++ki)
            for (std::size_t kj = 0; kj < g.kernel_w; ++kj) {
              const auto r = static_cast<std::ptrdiff_t>(i * g.stride_h + ki * g.dilation_h) -
                             static_cast<std::ptrdiff_t>(g.pad_top);
              const auto q = static_cast<std::ptrdiff_t>(j * g.stride_w + kj * g.dilation_w) -
                             static_cast<std::ptrdiff_t>(g.pad_left);
              if (r < 0 || q < 0 || r >= static_cast<std::ptrdiff_t>(g.in_h) ||
                  q >= static_cast<std::ptrdiff_t>(g.in_w))
                continue;
              const std::size_t ci = grp * cg + c;
              s += static_cast<double>(w[((o * cg + c) * g.kernel_h + ki) * g.kernel_w + kj]) *
                   x[(ci * g.in_h + static_cast<std::size_t>(r)) * g.in_w +
                     static_cast<std::size_t>(q)];
            }
        y[(o * oh + i) * ow + j] = s;
      }
  return y;
}

}  // namespace

TEST_CASE("dispatch names a tier the CPU runs and honours the cap", "[kernels][dispatch]") {
  const Tier best = pare::simd::active_tier();
  INFO(pare::simd::cpu_report());
  CHECK(best != Tier::scalar);
  CHECK(pare::simd::cpu_report().find(pare::simd::tier_name(best)) != std::string::npos);
  {
    pare::simd::TierLimit cap(Tier::sse2);
    CHECK(pare::simd::active_tier() == Tier::sse2);
    CHECK(pare::simd::max_tier() == Tier::sse2);
  }
  CHECK(pare::simd::active_tier() == best);
#if defined(PARE_ISA_OBJECTS) && PARE_SIMD_X86
  // With pare_isa linked, the best tier is the CPU's, whatever this file was compiled for.
  const auto& f = pare::simd::cpu_features();
  if (f.avx512f && f.avx512bw && f.avx512dq && f.avx512cd && f.avx512vl)
    CHECK(best == Tier::avx512);
  else if (f.avx2 && f.fma)
    CHECK(best == Tier::avx2);
#endif
}

TEST_CASE("dot, axpy, gemv and gemm are right on every tier", "[kernels][dispatch]") {
  pare::Rng rng(11);
  for (const Tier t : tiers()) {
    pare::simd::TierLimit cap(t);
    INFO(pare::simd::tier_name(t));
    for (const std::size_t n : {1UL, 7UL, 33UL, 1000UL}) {
      const auto a = randoms(n, rng), b = randoms(n, rng);
      const pare::TensorView<const float, 1> va(a.data(), {n}), vb(b.data(), {n});
      double ref = 0, abs_sum = 0;
      for (std::size_t i = 0; i < n; ++i) {
        ref += static_cast<double>(a[i]) * b[i];
        abs_sum += std::abs(static_cast<double>(a[i]) * b[i]);
      }
      CHECK(std::abs(pare::dot(va, vb) - ref) <= pare::test::dot_tolerance(n, abs_sum));
      std::vector<float> y = b;
      pare::axpy(0.5f, va, pare::TensorView<float, 1>(y.data(), {n}));
      for (std::size_t i = 0; i < n; ++i) CHECK(y[i] == std::fma(0.5f, a[i], b[i]));
    }
    for (const auto& [m, n, k] :
         {std::array<std::size_t, 3>{1, 1, 1}, {5, 37, 19}, {70, 130, 300}, {13, 1, 64}}) {
      const auto a = randoms(m * k, rng), b = randoms(k * n, rng);
      pare::Tensor<float, 2> c({m, n}), ref({m, n});
      const pare::TensorView<const float, 2> va(a.data(), {m, k}), vb(b.data(), {k, n});
      pare::gemm(va, vb, c.view());
      pare::kernels::reference::gemm(va, vb, ref.view(), 1.0f, 0.0f);
      for (std::size_t i = 0; i < c.size(); ++i)
        CHECK(c.data()[i] == Approx(ref.data()[i]).margin(1e-4));
      // the packed product, with a bias
      const pare::PackedGemmB packed(vb);
      CHECK(packed.tier() == t);
      const auto bias = randoms(n, rng);
      pare::Tensor<float, 2> cp({m, n});
      packed.multiply(va, cp.view(), bias.data());
      for (std::size_t i = 0; i < m; ++i)
        for (std::size_t j = 0; j < n; ++j)
          CHECK(cp(i, j) == Approx(ref(i, j) + bias[j]).margin(1e-4));
      // gemv on the first column of B as a matrix-vector product
      std::vector<float> x(k), yv(m);
      for (std::size_t p = 0; p < k; ++p) x[p] = b[p * n];
      pare::gemv(va, pare::TensorView<const float, 1>(x.data(), {k}),
                 pare::TensorView<float, 1>(yv.data(), {m}));
      for (std::size_t i = 0; i < m; ++i) CHECK(yv[i] == Approx(ref(i, 0)).margin(1e-4));
    }
  }
}

TEST_CASE("a weight packed on one tier runs on that tier after the cap changes",
          "[kernels][dispatch]") {
  pare::Rng rng(5);
  const std::size_t m = 9, n = 45, k = 31;
  const auto a = randoms(m * k, rng), b = randoms(k * n, rng);
  const pare::TensorView<const float, 2> va(a.data(), {m, k}), vb(b.data(), {k, n});
  pare::Tensor<float, 2> ref({m, n}), c({m, n});
  pare::kernels::reference::gemm(va, vb, ref.view(), 1.0f, 0.0f);
  const pare::PackedGemmB packed(vb);  // the best tier's panel width
  for (const Tier t : tiers()) {
    pare::simd::TierLimit cap(t);
    packed.multiply(va, c.view());
    for (std::size_t i = 0; i < c.size(); ++i)
      CHECK(c.data()[i] == Approx(ref.data()[i]).margin(1e-4));
  }
}

TEST_CASE("PackedConv2d is right on every tier and path", "[kernels][dispatch]") {
  pare::Rng rng(3);
  using G = pare::Conv2dGeometry;
  // GEMM path, depthwise stride 2 (the two-phase split), pointwise, grouped, a small image with
  // many channels (the transposed product)
  const G geometries[] = {
      {.in_channels = 5,
       .out_channels = 20,
       .in_h = 17,
       .in_w = 13,
       .kernel_h = 3,
       .kernel_w = 3,
       .stride_h = 1,
       .stride_w = 1,
       .pad_top = 1,
       .pad_left = 1,
       .pad_bottom = 1,
       .pad_right = 1},
      {.in_channels = 8,
       .out_channels = 8,
       .in_h = 40,
       .in_w = 70,
       .kernel_h = 3,
       .kernel_w = 3,
       .stride_h = 2,
       .stride_w = 2,
       .pad_top = 1,
       .pad_left = 1,
       .pad_bottom = 1,
       .pad_right = 1,
       .groups = 8},
      {.in_channels = 16, .out_channels = 24, .in_h = 9, .in_w = 9, .kernel_h = 1, .kernel_w = 1},
      {.in_channels = 12,
       .out_channels = 18,
       .in_h = 10,
       .in_w = 11,
       .kernel_h = 3,
       .kernel_w = 3,
       .stride_h = 2,
       .stride_w = 1,
       .pad_top = 1,
       .pad_left = 1,
       .pad_bottom = 1,
       .pad_right = 1,
       .groups = 3},
      {.in_channels = 64,
       .out_channels = 96,
       .in_h = 3,
       .in_w = 3,
       .kernel_h = 3,
       .kernel_w = 3,
       .pad_top = 1,
       .pad_left = 1,
       .pad_bottom = 1,
       .pad_right = 1},
  };
  for (const G& g : geometries) {
    INFO(g.describe());
    const auto x = randoms(g.in_channels * g.in_h * g.in_w, rng);
    const auto w =
        randoms(g.out_channels * (g.in_channels / g.groups) * g.kernel_h * g.kernel_w, rng, 0.3f);
    const auto b = randoms(g.out_channels, rng);
    const auto ref = conv_reference(g, x, w, b);
    const pare::TensorView<const float, 4> wv(
        w.data(), {g.out_channels, g.in_channels / g.groups, g.kernel_h, g.kernel_w});
    for (const Tier t : tiers()) {
      pare::simd::TierLimit cap(t);
      INFO(pare::simd::tier_name(t));
      const pare::PackedConv2d conv(wv, b.data(), g.groups, {.kind = pare::Activation::relu});
      std::vector<float> y(ref.size(), std::nanf(""));
      conv.run(g, x.data(), y.data());
      for (std::size_t i = 0; i < y.size(); ++i)
        CHECK(y[i] == Approx(std::max(ref[i], 0.0)).margin(2e-4));
    }
  }
}
