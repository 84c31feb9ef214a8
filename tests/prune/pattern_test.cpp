// SPDX-License-Identifier: Apache-2.0
// Patterns and criteria: structure of the masks, on odd shapes, against brute-force selections.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "pare/core/random.hpp"
#include "pare/prune/criteria.hpp"
#include "pare/prune/mask.hpp"
#include "pare/prune/pattern.hpp"
#include "pare/prune/pruner.hpp"

namespace {
pare::Tensor<float, 2> random_matrix(std::size_t r, std::size_t c, std::uint64_t seed) {
  pare::Rng rng(seed);
  pare::Tensor<float, 2> t({r, c});
  for (float& v : t.span()) v = rng.normal();
  return t;
}

// For N:M on a row: within each run, every kept score >= every pruned score, and the count.
template <std::size_t N, std::size_t M>
void check_nm(std::size_t rows, std::size_t cols) {
  const auto s = random_matrix(rows, cols, rows * 131 + cols);
  const pare::Mask m = pare::NM<N, M>{}.mask(s);
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t c0 = 0; c0 < cols; c0 += M) {
      const std::size_t t = std::min(M, cols - c0);
      std::size_t kept = 0;
      float min_kept = 1e30f, max_pruned = -1e30f;
      for (std::size_t i = 0; i < t; ++i) {
        if (m(r, c0 + i)) {
          ++kept;
          min_kept = std::min(min_kept, s(r, c0 + i));
        } else {
          max_pruned = std::max(max_pruned, s(r, c0 + i));
        }
      }
      CHECK(kept == (N * t + M - 1) / M);
      CHECK(max_pruned <= min_kept);
    }
}
}  // namespace

TEST_CASE("N:M keeps the N best of every M, including 2:4, 4:8, 1:4 and tails", "[prune]") {
  check_nm<2, 4>(7, 16);
  check_nm<2, 4>(5, 19);  // tail of 3
  check_nm<4, 8>(3, 37);
  check_nm<1, 4>(4, 13);
  check_nm<3, 7>(2, 50);
  // 2:4 on a matrix whose width is a multiple of 4 is exactly 50 %.
  CHECK(pare::sparsity(pare::NM<2, 4>{}.mask(random_matrix(6, 64, 1))) == 0.5);
  CHECK(pare::sparsity(pare::NM<4, 8>{}.mask(random_matrix(6, 64, 2))) == 0.5);
}

TEST_CASE("Block<R, C> prunes whole tiles by summed score, edge tiles included", "[prune]") {
  const auto w = random_matrix(10, 13, 5);  // 3 x 4 tiles of 4x4, partial at the edges
  const pare::Pruner<pare::Magnitude, pare::Block<4, 4>> p;
  const pare::Mask m = p.mask({.weights = w}, 0.5);
  const auto scores = pare::Magnitude{}.score({.weights = w});
  const auto g = pare::Block<4, 4>{}.group_scores(scores);
  REQUIRE(g.size() == 12);
  std::size_t pruned_tiles = 0;
  float max_pruned = 0, min_kept = 1e30f;
  for (std::size_t bi = 0; bi < 3; ++bi)
    for (std::size_t bj = 0; bj < 4; ++bj) {
      const std::uint8_t v = m(bi * 4, bj * 4);
      float sum = 0;
      for (std::size_t r = bi * 4; r < std::min<std::size_t>(10, bi * 4 + 4); ++r)
        for (std::size_t c = bj * 4; c < std::min<std::size_t>(13, bj * 4 + 4); ++c) {
          CHECK(m(r, c) == v);  // the whole tile shares one decision
          sum += std::abs(w(r, c));
        }
      CHECK(g[bi * 4 + bj] == Approx(sum));
      if (v)
        min_kept = std::min(min_kept, sum);
      else {
        ++pruned_tiles;
        max_pruned = std::max(max_pruned, sum);
      }
    }
  CHECK(pruned_tiles == 6);
  CHECK(max_pruned <= min_kept);
  const auto sizes = pare::Block<4, 4>{}.group_sizes({10, 13});
  std::size_t total = 0;
  for (auto s : sizes) total += s;
  CHECK(total == 130);
  CHECK(sizes.back() == 2 * 1);
}

TEST_CASE("PerRow prunes the same count in every row", "[prune]") {
  const auto w = random_matrix(9, 21, 8);
  const pare::Mask m = pare::Pruner<pare::Magnitude, pare::PerRow>{}.mask({.weights = w}, 0.5);
  for (std::size_t r = 0; r < 9; ++r) {
    std::size_t kept = 0;
    for (std::size_t c = 0; c < 21; ++c) kept += m(r, c);
    CHECK(kept == 21 - pare::prune_count(0.5, 21));
  }
}

TEST_CASE("criteria compute their published scores", "[prune]") {
  const auto w = random_matrix(5, 7, 11);
  const auto g = random_matrix(5, 7, 12);
  const auto h = random_matrix(5, 7, 13);
  pare::Tensor<float, 2> x({20, 7});
  pare::Rng rng(3);
  for (float& v : x.span()) v = rng.normal();
  const auto norms = pare::input_norms(x);
  pare::Tensor<float, 2> movement({5, 7});
  pare::accumulate_movement(movement.view(), w, g);
  pare::accumulate_movement(movement.view(), w, g);
  pare::Tensor<float, 2> fisher({5, 7});
  pare::accumulate_fisher(fisher.view(), g, 0.5f);
  const pare::PruneContext ctx{
      .weights = w, .input_norms = norms, .grad = g, .accumulated = movement, .hessian_diag = h};
  const auto mag = pare::Magnitude{}.score(ctx);
  const auto l2 = pare::L2{}.score(ctx);
  const auto wanda = pare::Wanda{}.score(ctx);
  const auto mov = pare::Movement{}.score(ctx);
  const auto mov1 = pare::Movement{}.score({.weights = w, .grad = g});
  const auto taylor = pare::Taylor{}.score(ctx);
  const auto obd = pare::Obd{}.score(ctx);
  for (std::size_t c = 0; c < 7; ++c) {
    double sq = 0;
    for (std::size_t n = 0; n < 20; ++n) sq += double(x(n, c)) * x(n, c);
    CHECK(norms[c] == Approx(std::sqrt(sq)).epsilon(1e-6));
  }
  for (std::size_t r = 0; r < 5; ++r)
    for (std::size_t c = 0; c < 7; ++c) {
      CHECK(mag(r, c) == std::abs(w(r, c)));
      CHECK(l2(r, c) == w(r, c) * w(r, c));
      CHECK(wanda(r, c) == Approx(std::abs(w(r, c)) * norms[c]));
      CHECK(mov(r, c) == Approx(-2 * w(r, c) * g(r, c)));
      CHECK(mov1(r, c) == Approx(-w(r, c) * g(r, c)));
      CHECK(taylor(r, c) == Approx(std::abs(w(r, c) * g(r, c))));
      CHECK(obd(r, c) == Approx(0.5 * h(r, c) * w(r, c) * w(r, c)));
      CHECK(fisher(r, c) == Approx(0.5 * g(r, c) * g(r, c)));
    }
  const auto r1 = pare::Random{.seed = 9}.score(ctx);
  const auto r2 = pare::Random{.seed = 9}.score(ctx);
  CHECK(std::equal(r1.span().begin(), r1.span().end(), r2.span().begin()));
}

TEST_CASE("mask helpers", "[prune]") {
  auto w = random_matrix(4, 6, 21);
  pare::Mask m = pare::dense_mask(4, 6);
  CHECK(pare::sparsity(m) == 0.0);
  m(0, 0) = 0;
  m(3, 5) = 0;
  m(2, 1) = 0;
  CHECK(pare::count_kept(m) == 21);
  CHECK(pare::sparsity(m) == Approx(3.0 / 24));
  pare::apply_mask(w.view(), m);
  CHECK(w(0, 0) == 0.0f);
  CHECK(w(3, 5) == 0.0f);
  CHECK(pare::sparsity(w.view()) == Approx(3.0 / 24));
}

TEST_CASE("nonzero_mask, intersect, prune_count", "[prune]") {
  auto w = random_matrix(3, 5, 22);
  w(1, 2) = 0.0f;
  const pare::Mask nz = pare::nonzero_mask(w);
  CHECK(pare::count_kept(nz) == 14);
  pare::Mask other = pare::dense_mask(3, 5);
  other(0, 0) = 0;
  const pare::Mask both = pare::intersect(nz, other);
  CHECK(pare::count_kept(both) == 13);
  // Python's round(): ties to even.
  CHECK(pare::prune_count(0.5, 5) == 2);
  CHECK(pare::prune_count(0.5, 7) == 4);
  CHECK(pare::prune_count(0.3, 10) == 3);
  CHECK_THROWS_AS(pare::prune_count(1.2, 10), pare::ArgumentError);
  CHECK_THROWS_AS(pare::apply_mask(w.view(), pare::dense_mask(5, 3)), pare::ShapeError);
}
