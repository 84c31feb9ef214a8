// SPDX-License-Identifier: Apache-2.0
// The SIMD row kernels against their scalar oracles on every arch the CPU runs, on odd sizes and
// tails, and on extreme inputs: ±1e4 logits, all-equal logits, one-hot teachers.
#include "pare/distill/row_kernels.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstddef>
#include <vector>

#include "pare/core/random.hpp"
#include "pare/simd/arch.hpp"

namespace ref = pare::kernels::reference;
using pare::kernels::Divergence;

namespace {

std::vector<float> random_row(std::size_t n, float scale, std::uint64_t seed) {
  pare::Rng rng(seed);
  std::vector<float> v(n);
  for (float& x : v) x = scale * rng.normal();
  return v;
}

// Float kernels vs double oracles: exp and the row sums carry a few ulp of relative error each;
// gradients of size p − q are compared with a floor of 1e-6 of the row's largest element, plus
// `abs` for gradients that are differences of large terms (reverse KL's log p − log q − KL on
// ±1e4 logits: float resolves those only to ulp(|KL|)).
void check_row(const std::vector<float>& a, const std::vector<float>& r, double rel,
               double abs = 0) {
  double scale = 0;
  for (float v : r) scale = std::max(scale, std::abs(static_cast<double>(v)));
  for (std::size_t i = 0; i < a.size(); ++i) {
    INFO("element " << i << ": " << a[i] << " vs " << r[i]);
    REQUIRE(std::isfinite(a[i]));
    CHECK(std::abs(static_cast<double>(a[i]) - r[i]) <= rel * std::abs(r[i]) + 1e-6 * scale + abs);
  }
}

template <Divergence D>
void check_divergence(const std::vector<float>& s, const std::vector<float>& t, float inv_t) {
  const std::size_t n = s.size();
  std::vector<float> expect(n, 0.25f);
  const float v_ref = ref::divergence_row<D>(s.data(), t.data(), n, inv_t, 0.5f, expect.data());
  pare::simd::for_each_arch([&](auto arch) {
    INFO("arch " << decltype(arch)::name() << " n " << n << " divergence " << static_cast<int>(D));
    std::vector<float> g(n + 1, 0.25f);
    g[n] = -7.0f;  // sentinel past the end
    const float v =
        pare::kernels::DivergenceRow<D>{}(arch, s.data(), t.data(), n, inv_t, 0.5f, g.data());
    REQUIRE(std::isfinite(v));
    CHECK(std::abs(v - v_ref) <= 1e-5 * std::abs(v_ref) + 1e-6);
    CHECK(g[n] == -7.0f);
    g.pop_back();
    check_row(g, expect, 1e-4, 1e-6 * 0.5 * std::abs(v_ref));
    // Store mode writes what accumulate mode adds.
    std::vector<float> st(n, 123.0f);
    (void)pare::kernels::DivergenceRow<D, false>{}(arch, s.data(), t.data(), n, inv_t, 0.5f,
                                                   st.data());
    for (std::size_t i = 0; i < n; ++i) CHECK(std::abs(st[i] + 0.25f - g[i]) <= 1e-6f);
    // With scratch (forward KL keeps its exponentials there; the others ignore it).
    std::vector<float> gsc(n, 0.25f), scratch(2 * n);
    const float vs = pare::kernels::DivergenceRow<D>{}(arch, s.data(), t.data(), n, inv_t, 0.5f,
                                                       gsc.data(), scratch.data());
    CHECK(std::abs(vs - v_ref) <= 1e-5 * std::abs(v_ref) + 1e-6);
    check_row(gsc, expect, 1e-4, 1e-6 * 0.5 * std::abs(v_ref));
    // Value only.
    CHECK(pare::kernels::DivergenceRow<D>{}(arch, s.data(), t.data(), n, inv_t, 0.5f, nullptr) ==
          v);
  });
}

void check_all(const std::vector<float>& s, const std::vector<float>& t, float inv_t) {
  check_divergence<Divergence::forward_kl>(s, t, inv_t);
  check_divergence<Divergence::reverse_kl>(s, t, inv_t);
  check_divergence<Divergence::jensen_shannon>(s, t, inv_t);
}

}  // namespace

TEST_CASE("divergence rows match the scalar oracle on every arch and size", "[distill][kernels]") {
  for (std::size_t n : {1u, 2u, 3u, 7u, 15u, 16u, 17u, 31u, 33u, 47u, 64u, 100u, 1001u}) {
    const auto s = random_row(n, 2.5f, n), t = random_row(n, 2.5f, n + 1000);
    check_all(s, t, 1.0f);
    check_all(s, t, 0.25f);
  }
}

TEST_CASE("divergence rows stay finite on extreme logits", "[distill][kernels][extreme]") {
  const std::size_t n = 37;
  std::vector<float> big(n), equal(n, 3.0f), onehot(n, 0.0f);
  for (std::size_t i = 0; i < n; ++i) big[i] = (i % 3 == 0 ? 1e4f : -1e4f);
  onehot[5] = 1e4f;  // a teacher whose softmax is one-hot
  for (float inv_t : {1.0f, 0.25f}) {
    check_all(big, equal, inv_t);
    check_all(equal, big, inv_t);
    check_all(equal, equal, inv_t);
    check_all(onehot, big, inv_t);
    check_all(big, onehot, inv_t);
    check_all(random_row(n, 1.0f, 3), onehot, inv_t);
  }
  // Identical rows: every divergence is exactly 0 and so is the gradient.
  pare::simd::for_each_arch([&](auto arch) {
    std::vector<float> g(n, 0.0f);
    const float v = pare::kernels::DivergenceRow<Divergence::forward_kl>{}(
        arch, big.data(), big.data(), n, 1.0f, 1.0f, g.data());
    CHECK(v == 0.0f);
    for (float x : g) CHECK(x == 0.0f);
  });
}

TEST_CASE("smoothed cross-entropy rows match the scalar oracle", "[distill][kernels]") {
  for (std::size_t n : {1u, 2u, 5u, 16u, 17u, 63u, 1001u}) {
    for (const auto& s : {random_row(n, 3.0f, n), std::vector<float>(n, 1e4f)}) {
      for (float eps : {0.0f, 0.1f}) {
        const std::size_t label = n / 2;
        std::vector<float> expect(n, 0.0f);
        const float v_ref =
            ref::smoothed_cross_entropy_row(s.data(), n, label, eps, 0.5f, expect.data());
        pare::simd::for_each_arch([&](auto arch) {
          INFO("arch " << decltype(arch)::name() << " n " << n << " eps " << eps);
          std::vector<float> g(n, 0.0f);
          const float v = pare::kernels::SmoothedCrossEntropyRow{}(arch, s.data(), n, label, eps,
                                                                   0.5f, g.data());
          CHECK(std::abs(v - v_ref) <= 1e-5 * std::abs(v_ref) + 1e-6);
          check_row(g, expect, 1e-4);
        });
      }
    }
  }
}

// With the row length a compile-time constant GCC 12 used to prove "undefined behaviour" in dead
// scalar tail loops (-Waggressive-loop-optimizations, fatal with -Werror); the kernels have no
// such loops now. This case compiling is the test; it also checks the scratch path on a tail.
TEST_CASE("row kernels compile and agree with a constant row length", "[distill][kernels]") {
  constexpr std::size_t n = 64 + 5;
  const auto s = random_row(n, 2.0f, 1), t = random_row(n, 2.0f, 2);
  std::vector<float> g1(n, 0.0f), g2(n, 0.0f), g3(n, 0.0f), scratch(2 * n);
  const float a = pare::kernels::DivergenceRow<Divergence::forward_kl>{}(
      xsimd::default_arch{}, s.data(), t.data(), n, 0.5f, 1.0f, g1.data());
  const float b = pare::kernels::DivergenceRow<Divergence::forward_kl>{}(
      xsimd::default_arch{}, s.data(), t.data(), n, 0.5f, 1.0f, g2.data(), scratch.data());
  (void)pare::kernels::DivergenceRow<Divergence::reverse_kl>{}(xsimd::default_arch{}, s.data(),
                                                               t.data(), n, 0.5f, 1.0f, g3.data());
  (void)pare::kernels::SmoothedCrossEntropyRow{}(xsimd::default_arch{}, s.data(), n, 3, 0.1f, 1.0f,
                                                 g3.data());
  CHECK(std::abs(a - b) <= 1e-6f * std::abs(a));
  for (std::size_t i = 0; i < n; ++i) CHECK(std::abs(g1[i] - g2[i]) <= 1e-7f);
}
