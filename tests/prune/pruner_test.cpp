// SPDX-License-Identifier: Apache-2.0
// Masks against torch.nn.utils.prune (tests/data/prune/make_prune_refs.py, torch 1.13).
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "pare/prune/criteria.hpp"
#include "pare/prune/pruner.hpp"
#include "prune_test_util.hpp"

using pare::test::mask_diff;
using pare::test::prune_ref;

TEST_CASE("l1_unstructured masks equal torch's", "[prune][torch]") {
  const auto w = prune_ref("l1.w").matrix();
  const pare::Pruner<pare::Magnitude, pare::Unstructured> p;
  for (const std::string amount : {"0.3", "0.5", "0.9"}) {
    const pare::Mask m = p.mask({.weights = w}, std::stod(amount));
    const pare::Mask want = prune_ref("l1.mask." + amount).mask();
    INFO("amount " << amount);
    CHECK(mask_diff(m, want) == 0);
    CHECK(pare::count_kept(m) == pare::count_kept(want));
  }
}

TEST_CASE("random_unstructured: same count, and torch's mask rebuilt from its scores",
          "[prune][torch]") {
  const auto w = prune_ref("random.w").matrix();
  const pare::Mask want = prune_ref("random.mask").mask();
  // torch prunes the k entries with the *largest* rand_like score; negated, they are the lowest.
  pare::Tensor<float, 2> neg = prune_ref("random.prob").matrix();
  for (float& v : neg.span()) v = -v;
  CHECK(mask_diff(pare::Unstructured{}.mask(neg, 0.4), want) == 0);

  // pare's own seeded Random criterion: torch's count, a different (but seeded) choice.
  const pare::Pruner<pare::Random, pare::Unstructured> p{.criterion = {.seed = 3}};
  const pare::Mask m = p.mask({.weights = w}, 0.4);
  CHECK(pare::count_kept(m) == pare::count_kept(want));
  CHECK(mask_diff(m, p.mask({.weights = w}, 0.4)) == 0);  // reproducible
  const pare::Pruner<pare::Random, pare::Unstructured> other{.criterion = {.seed = 4}};
  CHECK(mask_diff(m, other.mask({.weights = w}, 0.4)) > 0);
}

TEST_CASE("ln_structured masks equal torch's for n = 1, 2 and dim = 0, 1", "[prune][torch]") {
  const auto w = prune_ref("ln.w").matrix();
  for (int n : {1, 2})
    for (std::size_t dim : {0u, 1u}) {
      const pare::Pruner<pare::Magnitude, pare::Channel> p{
          .pattern = {.axis = dim, .p = static_cast<double>(n)}};
      const pare::Mask want =
          prune_ref("ln.mask.n" + std::to_string(n) + ".dim" + std::to_string(dim)).mask();
      INFO("n " << n << " dim " << dim);
      CHECK(mask_diff(p.mask({.weights = w}, 0.4), want) == 0);
      // L2 scores summed per channel rank channels by the same L2 norm.
      if (n == 2) {
        const pare::Pruner<pare::L2, pare::Channel> l2{.pattern = {.axis = dim}};
        CHECK(mask_diff(l2.mask({.weights = w}, 0.4), want) == 0);
      }
    }
}

TEST_CASE("global_unstructured masks equal torch's", "[prune][torch]") {
  std::vector<pare::Tensor<float, 2>> ws;
  std::vector<pare::PruneContext> ctx;
  for (int i = 0; i < 3; ++i) ws.push_back(prune_ref("global.w" + std::to_string(i)).matrix());
  for (const auto& w : ws) ctx.push_back({.weights = w});
  const pare::Pruner<pare::Magnitude, pare::Unstructured, pare::GlobalScope> p;
  const auto masks = p.masks(ctx, 0.6);
  REQUIRE(masks.size() == 3);
  for (int i = 0; i < 3; ++i) {
    INFO("layer " << i);
    CHECK(mask_diff(masks[static_cast<std::size_t>(i)],
                    prune_ref("global.mask" + std::to_string(i)).mask()) == 0);
  }
}

TEST_CASE("GlobalScope floors and ceilings bound each layer's sparsity", "[prune]") {
  std::vector<pare::Tensor<float, 2>> ws;
  std::vector<pare::PruneContext> ctx;
  for (int i = 0; i < 3; ++i) ws.push_back(prune_ref("global.w" + std::to_string(i)).matrix());
  for (const auto& w : ws) ctx.push_back({.weights = w});
  // Without bounds, layer 2 (weights ×2) loses little and layer 0 (×0.5) a lot.
  const pare::Pruner<pare::Magnitude, pare::Unstructured, pare::GlobalScope> free;
  const auto m0 = free.masks(ctx, 0.6);
  CHECK(pare::sparsity(m0[0]) > 0.7);
  CHECK(pare::sparsity(m0[2]) < 0.5);
  const pare::Pruner<pare::Magnitude, pare::Unstructured, pare::GlobalScope> bounded{
      .scope = {.floors = {0.0, 0.0, 0.5}, .ceilings = {0.7, 1.0, 1.0}}};
  const auto m = bounded.masks(ctx, 0.6);
  CHECK(m[0].size() - pare::count_kept(m[0]) <= pare::prune_count(0.7, m[0].size()));
  CHECK(m[2].size() - pare::count_kept(m[2]) >= pare::prune_count(0.5, m[2].size()));
  std::size_t kept = 0, total = 0;
  for (const auto& mm : m) {
    kept += pare::count_kept(mm);
    total += mm.size();
  }
  CHECK(total - kept == pare::prune_count(0.6, total));
  // Within a layer the ranking is still by magnitude: every pruned |w| <= every kept |w|.
  for (std::size_t l = 0; l < 3; ++l) {
    float max_pruned = 0, min_kept = 1e30f;
    for (std::size_t i = 0; i < ws[l].size(); ++i) {
      const float a = std::abs(ws[l].data()[i]);
      if (m[l].data()[i])
        min_kept = std::min(min_kept, a);
      else
        max_pruned = std::max(max_pruned, a);
    }
    CHECK(max_pruned <= min_kept);
  }
  const pare::Pruner<pare::Magnitude, pare::Unstructured, pare::GlobalScope> bad{
      .scope = {.floor = 0.8, .ceiling = 0.5}};
  CHECK_THROWS_AS(bad.masks(ctx, 0.6), pare::ArgumentError);
}

TEST_CASE("global channel pruning ranks channels across layers", "[prune]") {
  pare::Tensor<float, 2> a({4, 3}), b({2, 3});
  for (std::size_t r = 0; r < 4; ++r)
    for (std::size_t c = 0; c < 3; ++c) a(r, c) = static_cast<float>(r + 1);  // norms 1..4
  for (std::size_t c = 0; c < 3; ++c) b(0, c) = 0.5f, b(1, c) = 10.0f;        // 0.5, 10
  const std::vector<pare::PruneContext> ctx{{.weights = a}, {.weights = b}};
  const pare::Pruner<pare::Magnitude, pare::Channel, pare::GlobalScope> p;
  const auto m = p.masks(ctx, 0.5);  // 9 of 18 weights: channels b0 (0.5), a0 (1), a1 (2)
  CHECK(pare::kept_rows(m[0]) == std::vector<std::size_t>{2, 3});
  CHECK(pare::kept_rows(m[1]) == std::vector<std::size_t>{1});
}

TEST_CASE("a previous mask stays pruned", "[prune]") {
  const auto w = prune_ref("l1.w").matrix();
  const pare::Pruner<pare::Random, pare::Unstructured> p{.criterion = {.seed = 1}};
  const pare::Mask first = p.mask({.weights = w}, 0.3);
  const pare::Pruner<pare::Random, pare::Unstructured> q{.criterion = {.seed = 2}};
  const pare::Mask second = q.mask({.weights = w, .previous = first}, 0.6);
  CHECK(pare::count_kept(second) == w.size() - pare::prune_count(0.6, w.size()));
  for (std::size_t i = 0; i < w.size(); ++i)
    if (!first.data()[i]) CHECK(second.data()[i] == 0);
}

TEST_CASE("bad arguments throw", "[prune]") {
  const auto w = prune_ref("l1.w").matrix();
  const pare::Pruner<pare::Magnitude, pare::Unstructured> p;
  CHECK_THROWS_AS(p.mask({.weights = w}, 1.5), pare::ArgumentError);
  CHECK_THROWS_AS(p.mask({.weights = w}, -0.1), pare::ArgumentError);
  const pare::Mask wrong({3, 3});
  CHECK_THROWS_AS(p.mask({.weights = w, .previous = wrong}, 0.5), pare::ShapeError);
  const pare::Pruner<pare::Wanda, pare::Unstructured> wanda;
  CHECK_THROWS_AS(wanda.mask({.weights = w}, 0.5), pare::ArgumentError);
  const pare::Pruner<pare::Obd, pare::Unstructured> obd;
  CHECK_THROWS_AS(obd.mask({.weights = w}, 0.5), pare::ArgumentError);
  const pare::Tensor<float, 2> wrong_h({3, 3});
  CHECK_THROWS_AS(obd.mask({.weights = w, .hessian_diag = wrong_h}, 0.5), pare::ShapeError);
  CHECK_THROWS_AS((pare::Channel{.axis = 2}.mask(w, 0.5)), pare::ArgumentError);
}
