// SPDX-License-Identifier: Apache-2.0
// prune_and_deploy: a Pruner's pattern picks the sparse format; the deployed layers equal the
// masked dense ones (and a double-accumulated scalar reference), with exactly the sparsity each
// pattern promises.
#include "pare/nn/prune_deploy.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "pare/core/random.hpp"
#include "pare/nn/linear.hpp"
#include "pare/nn/relu.hpp"
#include "pare/nn/sequential.hpp"
#include "pare/prune/criteria.hpp"
#include "pare/prune/pattern.hpp"
#include "pare/prune/pruner.hpp"

using pare::Linear;
using pare::Mask;
using pare::Tensor;

namespace {

// A user's pattern: keeps the even columns, whatever the sparsity. It names its deploy format.
struct EvenColumns {
  [[nodiscard]] Mask mask(pare::TensorView<const float, 2> scores, double /*sparsity*/) const {
    Mask m(scores.extents());
    for (std::size_t r = 0; r < scores.extent(0); ++r)
      for (std::size_t c = 0; c < scores.extent(1); c += 2) m(r, c) = 1;
    return m;
  }
};
static_assert(pare::SparsityPattern<EvenColumns>);

}  // namespace

template <>
struct pare::deploy_format<EvenColumns> {
  using type = pare::Bitmap;
};

namespace {

// The types decide the layer: these are the table of docs/pruning.md.
static_assert(std::is_same_v<pare::deploy_format_t<pare::NM<2, 4>>, pare::PackedNM<2, 4>>);
static_assert(std::is_same_v<pare::deploy_format_t<pare::NM<1, 8>>, pare::PackedNM<1, 8>>);
static_assert(std::is_same_v<pare::deploy_format_t<pare::Unstructured>, pare::Csr<std::uint16_t>>);
static_assert(std::is_same_v<pare::deploy_format_t<pare::PerRow>, pare::Csr<std::uint16_t>>);
static_assert(std::is_same_v<pare::deploy_format_t<pare::Block<4, 16>>, pare::Bsr<4, 16>>);
static_assert(std::is_same_v<pare::deploy_format_t<pare::Channel>, pare::RemoveChannels>);
static_assert(std::is_same_v<pare::deploy_format_t<EvenColumns>, pare::Bitmap>);
static_assert(std::is_same_v<pare::deployed_linear_t<pare::NM<2, 4>>,
                             pare::SparseLinear<pare::PackedNM<2, 4>>>);
static_assert(std::is_same_v<pare::deployed_linear_t<pare::Unstructured, pare::Bitmap>,
                             pare::SparseLinear<pare::Bitmap>>);
static_assert(std::is_same_v<pare::deployed_linear_t<pare::Channel>, Linear>);
static_assert(pare::DeployablePattern<pare::Block<2, 2>> && !pare::DeployablePattern<int>);

Tensor<float, 2> random_matrix(std::size_t rows, std::size_t cols, std::uint64_t seed) {
  pare::Rng rng(seed);
  Tensor<float, 2> t({rows, cols});
  for (float& v : t.span()) v = rng.uniform(-1.0f, 1.0f);
  return t;
}

// Inputs whose features differ in scale by up to 30x, so Wanda's ranking differs from magnitude's.
Tensor<float, 2> uneven_inputs(std::size_t n, std::size_t in, std::uint64_t seed) {
  Tensor<float, 2> x = random_matrix(n, in, seed);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < in; ++j) x(i, j) *= 1.0f + static_cast<float>((j * 7) % 30);
  return x;
}

// x (W ⊙ mask)ᵀ + b, accumulated in double.
Tensor<float, 2> reference(const Tensor<float, 2>& x, const Linear& fc, const Mask& mask) {
  const auto& w = fc.weight();
  Tensor<float, 2> y({x.extent(0), w.extent(0)});
  for (std::size_t n = 0; n < x.extent(0); ++n)
    for (std::size_t o = 0; o < w.extent(0); ++o) {
      double acc = fc.bias()(o);
      for (std::size_t i = 0; i < w.extent(1); ++i)
        if (mask(o, i)) acc += static_cast<double>(x(n, i)) * w(o, i);
      y(n, o) = static_cast<float>(acc);
    }
  return y;
}

void check_close(const Tensor<float, 2>& got, const Tensor<float, 2>& expect, float tol = 1e-5f) {
  REQUIRE(got.extents() == expect.extents());
  for (std::size_t i = 0; i < got.size(); ++i)
    CHECK(std::abs(got.data()[i] - expect.data()[i]) <= tol * (1.0f + std::abs(expect.data()[i])));
}

// The kept positions of a deployed weight (the test weights have no exact zeros).
Mask kept_of(const Tensor<float, 2>& dense) {
  Mask m(dense.extents());
  for (std::size_t i = 0; i < dense.size(); ++i) m.data()[i] = dense.data()[i] != 0.0f;
  return m;
}

std::size_t mask_diff(const Mask& a, const Mask& b) {
  std::size_t d = 0;
  for (std::size_t i = 0; i < a.size(); ++i) d += (a.data()[i] != 0) != (b.data()[i] != 0);
  return d;
}

Linear random_linear(std::size_t in, std::size_t out, std::uint64_t seed) {
  pare::Rng rng(seed);
  return Linear(in, out, rng);
}

// The masked dense Linear: what a deployed layer must compute.
Linear masked(const Linear& fc, const Mask& m) {
  Linear d = fc;
  pare::apply_mask(d.weight(), m);
  return d;
}

template <class P>
void check_layer(const P& pattern, double sparsity, std::size_t expect_pruned) {
  const Linear fc = random_linear(40, 24, 3);
  const pare::Pruner<pare::Magnitude, P> pruner{.pattern = pattern};
  const auto sparse = pare::prune_and_deploy(fc, pruner, sparsity);
  static_assert(std::is_same_v<std::remove_cvref_t<decltype(sparse)>,
                               pare::SparseLinear<pare::deploy_format_t<P>>>);
  const Mask mask = pruner.mask({.weights = fc.weight()}, sparsity);
  const Mask kept = kept_of(sparse.weight().to_dense());
  CHECK(mask_diff(kept, mask) == 0);
  CHECK(fc.weight().size() - pare::count_kept(kept) == expect_pruned);
  const Tensor<float, 2> x = random_matrix(7, 40, 11);
  check_close(sparse.infer(x.view()), masked(fc, mask).infer(x.view()));
  check_close(sparse.infer(x.view()), reference(x, fc, mask));
  Tensor<float, 1> y({24});
  sparse.infer(x.view()[0], y.view());  // one sample: the spmv path
  const auto ref = reference(x, fc, mask);
  for (std::size_t o = 0; o < 24; ++o) CHECK(std::abs(y(o) - ref(0, o)) <= 1e-5f);
}

}  // namespace

TEST_CASE("prune_and_deploy: each pattern deploys to its format with the sparsity it promises",
          "[prune][deploy]") {
  SECTION("Unstructured → CSR: round(s · size) weights pruned") {
    check_layer(pare::Unstructured{}, 0.7, 672);  // round(0.7 · 960)
  }
  SECTION("PerRow → CSR: round(s · cols) pruned in every row") {
    check_layer(pare::PerRow{}, 0.45, 24 * 18);  // round(0.45 · 40) = 18 per row
  }
  SECTION("NM<2, 4> → PackedNM<2, 4>: exactly 2 of every 4") {
    check_layer(pare::NM<2, 4>{}, 0, 480);
  }
  SECTION("NM<1, 4> → PackedNM<1, 4>: sparsity argument ignored") {
    check_layer(pare::NM<1, 4>{}, 0.2, 720);
  }
  SECTION("Block<4, 8> → Bsr<4, 8>: whole tiles") {
    check_layer(pare::Block<4, 8>{}, 0.5, 15 * 32);  // 30 tiles of 32, 15 pruned
  }
  SECTION("a user's pattern deploys through its own deploy_format") {
    check_layer(EvenColumns{}, 0.5, 480);
  }
}

TEST_CASE("prune_and_deploy: 2:4 groups each keep exactly two weights", "[prune][deploy]") {
  const Linear fc = random_linear(40, 24, 5);
  const auto sparse = pare::prune_and_deploy(fc, pare::Pruner<pare::L2, pare::NM<2, 4>>{}, 0.5);
  const Mask kept = kept_of(sparse.weight().to_dense());
  for (std::size_t r = 0; r < 24; ++r)
    for (std::size_t g = 0; g < 40; g += 4)
      CHECK(kept(r, g) + kept(r, g + 1) + kept(r, g + 2) + kept(r, g + 3) == 2);
}

TEST_CASE("prune_and_deploy: Wanda takes its input norms from calibration inputs",
          "[prune][deploy]") {
  const Linear fc = random_linear(32, 16, 7);
  const Tensor<float, 2> calib = uneven_inputs(20, 32, 9);
  const auto sparse =
      pare::prune_and_deploy(fc, pare::Pruner<pare::Wanda, pare::NM<2, 4>>{}, 0.5, calib);
  const Tensor<float, 1> norms = pare::input_norms(calib.view());
  const Mask expect = pare::Pruner<pare::Wanda, pare::NM<2, 4>>{}.mask(
      {.weights = fc.weight(), .input_norms = norms}, 0.5);
  const Mask magnitude =
      pare::Pruner<pare::Magnitude, pare::NM<2, 4>>{}.mask({.weights = fc.weight()}, 0.5);
  REQUIRE(mask_diff(expect, magnitude) > 0);  // the inputs matter, or the test shows nothing
  CHECK(mask_diff(kept_of(sparse.weight().to_dense()), expect) == 0);
  check_close(sparse.infer(calib.view()), reference(calib, fc, expect), 1e-5f);

  // A PruneContext carries anything else a criterion reads; its weights are the layer's.
  const auto from_ctx = pare::prune_and_deploy(fc, pare::Pruner<pare::Wanda, pare::NM<2, 4>>{}, 0.5,
                                               {.weights = {}, .input_norms = norms});
  CHECK(mask_diff(kept_of(from_ctx.weight().to_dense()), expect) == 0);
}

TEST_CASE("prune_and_deploy<Format> overrides the pattern's format", "[prune][deploy]") {
  const Linear fc = random_linear(40, 24, 13);
  const pare::Pruner<pare::Magnitude, pare::Unstructured> pruner;
  const Mask mask = pruner.mask({.weights = fc.weight()}, 0.5);
  const Tensor<float, 2> x = random_matrix(5, 40, 17);
  const pare::SparseLinear<pare::Bitmap> bitmap =
      pare::prune_and_deploy<pare::Bitmap>(fc, pruner, 0.5);
  check_close(bitmap.infer(x.view()), reference(x, fc, mask));
  const auto bsr = pare::prune_and_deploy<pare::Bsr<1, 16>>(fc, pruner, 0.5);
  check_close(bsr.infer(x.view()), reference(x, fc, mask));
  // 1:4 masks fit a 2:4 packed format (groups padded with zeros).
  const auto packed = pare::prune_and_deploy<pare::PackedNM<2, 4>>(
      fc, pare::Pruner<pare::Magnitude, pare::NM<1, 4>>{}, 0);
  const Mask one_of_four =
      pare::Pruner<pare::Magnitude, pare::NM<1, 4>>{}.mask({.weights = fc.weight()}, 0);
  check_close(packed.infer(x.view()), reference(x, fc, one_of_four));
}

TEST_CASE("prune_and_deploy: bad arguments throw", "[prune][deploy]") {
  const Linear fc = random_linear(16, 8, 19);
  const pare::Pruner<pare::Magnitude, pare::Unstructured> pruner;
  CHECK_THROWS_AS((void)pare::prune_and_deploy(fc, pruner, 1.5), pare::ArgumentError);
  CHECK_THROWS_AS((void)pare::prune_and_deploy(fc, pruner, -0.1), pare::ArgumentError);
  const Tensor<float, 2> wrong_width({4, 15});
  CHECK_THROWS_AS((void)pare::prune_and_deploy(fc, pruner, 0.5, wrong_width), pare::ShapeError);
  const Tensor<float, 2> none({0, 16});
  CHECK_THROWS_AS((void)pare::prune_and_deploy(fc, pruner, 0.5, none), pare::ArgumentError);
  const Linear wide = random_linear(70000, 1, 23);
  CHECK_THROWS_AS((void)pare::prune_and_deploy(wide, pruner, 0.5), pare::ArgumentError);
  CHECK_NOTHROW((void)pare::prune_and_deploy<pare::Csr<std::uint32_t>>(wide, pruner, 0.5));
}

namespace {
using Mlp = pare::Sequential<Linear, pare::ReLU, Linear, pare::ReLU, Linear>;

Mlp random_mlp() {
  pare::Rng rng(29);
  return Mlp{Linear(32, 48, rng), pare::ReLU{}, Linear(48, 24, rng), pare::ReLU{},
             Linear(24, 8, rng)};
}

Mlp masked(const Mlp& model, const std::vector<Mask>& m) {
  Mlp d = model;
  pare::apply_mask(d.layer<0>().weight(), m[0]);
  pare::apply_mask(d.layer<2>().weight(), m[1]);
  pare::apply_mask(d.layer<4>().weight(), m[2]);
  return d;
}

template <class Deployed>
std::vector<Mask> kept_masks(const Deployed& d) {
  return {kept_of(d.template layer<0>().weight().to_dense()),
          kept_of(d.template layer<2>().weight().to_dense()),
          kept_of(d.template layer<4>().weight().to_dense())};
}
}  // namespace

TEST_CASE("prune_and_deploy of a Sequential deploys every Linear", "[prune][deploy]") {
  const Mlp model = random_mlp();
  const Tensor<float, 2> x = random_matrix(9, 32, 31);
  const pare::Pruner<pare::Magnitude, pare::NM<2, 4>> pruner;
  const auto sparse = pare::prune_and_deploy(model, pruner, 0.5);
  using Packed = pare::SparseLinear<pare::PackedNM<2, 4>>;
  static_assert(std::is_same_v<std::remove_cvref_t<decltype(sparse)>,
                               pare::Sequential<Packed, pare::ReLU, Packed, pare::ReLU, Packed>>);
  const std::vector<Mask> masks{pruner.mask({.weights = model.layer<0>().weight()}, 0.5),
                                pruner.mask({.weights = model.layer<2>().weight()}, 0.5),
                                pruner.mask({.weights = model.layer<4>().weight()}, 0.5)};
  const auto kept = kept_masks(sparse);
  for (std::size_t l = 0; l < 3; ++l) {
    CHECK(mask_diff(kept[l], masks[l]) == 0);
    CHECK(pare::sparsity(kept[l].view()) == 0.5);
  }
  check_close(sparse.infer(x.view()), masked(model, masks).infer(x.view()));
  Tensor<float, 1> y({8});
  sparse.infer(x.view()[2], y.view());
  const Tensor<float, 2> ref = masked(model, masks).infer(x.view());
  for (std::size_t o = 0; o < 8; ++o) CHECK(std::abs(y(o) - ref(2, o)) <= 1e-5f);
}

TEST_CASE("prune_and_deploy of a Sequential with Wanda scores each Linear on pruned inputs",
          "[prune][deploy]") {
  const Mlp model = random_mlp();
  const Tensor<float, 2> calib = uneven_inputs(24, 32, 37);
  const pare::Pruner<pare::Wanda, pare::PerRow> pruner;
  const auto sparse = pare::prune_and_deploy(model, pruner, 0.5, calib);

  // The reference walks the layers by hand: each Linear's inputs come from the masked ones before.
  std::vector<Mask> expect;
  Tensor<float, 2> h(calib.view());
  for (const Linear* fc : {&model.layer<0>(), &model.layer<2>(), &model.layer<4>()}) {
    const Tensor<float, 1> norms = pare::input_norms(h.view());
    expect.push_back(pruner.mask({.weights = fc->weight(), .input_norms = norms}, 0.5));
    h = pare::ReLU{}.infer(masked(*fc, expect.back()).infer(h.view()).view());
  }
  const auto kept = kept_masks(sparse);
  for (std::size_t l = 0; l < 3; ++l) CHECK(mask_diff(kept[l], expect[l]) == 0);
  check_close(sparse.infer(calib.view()), masked(model, expect).infer(calib.view()), 1e-4f);
}

TEST_CASE("prune_and_deploy of a Sequential with GlobalScope ranks all Linears together",
          "[prune][deploy]") {
  const Mlp model = random_mlp();
  const pare::Pruner<pare::Magnitude, pare::Unstructured, pare::GlobalScope> pruner{
      .scope = {.ceiling = 0.95}};
  const auto sparse = pare::prune_and_deploy(model, pruner, 0.8);
  const std::vector<pare::PruneContext> ctx{{.weights = model.layer<0>().weight()},
                                            {.weights = model.layer<2>().weight()},
                                            {.weights = model.layer<4>().weight()}};
  const auto masks = pruner.masks(ctx, 0.8);
  const auto kept = kept_masks(sparse);
  std::size_t kept_total = 0, total = 0;
  for (std::size_t l = 0; l < 3; ++l) {
    CHECK(mask_diff(kept[l], masks[l]) == 0);
    kept_total += pare::count_kept(kept[l]);
    total += kept[l].size();
  }
  CHECK(total - kept_total == pare::prune_count(0.8, total));
  CHECK(pare::sparsity(kept[0].view()) != pare::sparsity(kept[2].view()));  // layers differ
  const Tensor<float, 2> x = random_matrix(6, 32, 41);
  check_close(sparse.infer(x.view()), masked(model, masks).infer(x.view()));
}

namespace {
// The dense model with the given hidden units (rows and biases) of fc0 and fc1 zeroed.
Mlp without_units(const Mlp& model, const std::vector<std::size_t>& keep0,
                  const std::vector<std::size_t>& keep1) {
  Mlp d = model;
  auto zero_rows = [](Linear& fc, const std::vector<std::size_t>& keep) {
    for (std::size_t r = 0; r < fc.out_features(); ++r) {
      bool kept = false;
      for (std::size_t k : keep) kept |= k == r;
      if (kept) continue;
      fc.bias()(r) = 0;
      for (std::size_t c = 0; c < fc.in_features(); ++c) fc.weight()(r, c) = 0;
    }
  };
  zero_rows(d.layer<0>(), keep0);
  zero_rows(d.layer<2>(), keep1);
  return d;
}

std::vector<std::size_t> strongest_rows(const Linear& fc, std::size_t n) {
  const Mask m = pare::Pruner<pare::L2, pare::Channel>{}.mask(
      {.weights = fc.weight()},
      1.0 - static_cast<double>(n) / static_cast<double>(fc.out_features()));
  return pare::kept_rows(m);
}
}  // namespace

TEST_CASE("prune_and_deploy with Channel shrinks the Linears of a Sequential", "[prune][deploy]") {
  const Mlp model = random_mlp();
  const Tensor<float, 2> x = random_matrix(10, 32, 43);
  SECTION("per layer") {
    const auto small = pare::prune_and_deploy(model, pare::Pruner<pare::L2, pare::Channel>{}, 0.5);
    static_assert(std::is_same_v<std::remove_cvref_t<decltype(small)>, Mlp>);
    CHECK(small.layer<0>().out_features() == 24);  // 48 → 24
    CHECK(small.layer<2>().in_features() == 24);
    CHECK(small.layer<2>().out_features() == 12);  // 24 → 12
    CHECK(small.layer<4>().in_features() == 12);
    CHECK(small.layer<4>().out_features() == 8);  // the output layer keeps its width
    const auto keep0 = strongest_rows(model.layer<0>(), 24);
    // fc1 is scored after fc0 shrank: on the inputs that are left.
    Linear fc1 = model.layer<2>();
    for (std::size_t c = 0; c < 48; ++c)
      if (std::find(keep0.begin(), keep0.end(), c) == keep0.end())
        for (std::size_t r = 0; r < 24; ++r) fc1.weight()(r, c) = 0;
    const auto keep1 = strongest_rows(fc1, 12);
    check_close(small.infer(x.view()), without_units(model, keep0, keep1).infer(x.view()));
  }
  SECTION("global, with calibration inputs") {
    const Tensor<float, 2> calib = uneven_inputs(16, 32, 47);
    // Wanda scores of fc0 (inputs 1-30x larger) dwarf fc1's: without a ceiling fc1 loses every
    // unit.
    const pare::Pruner<pare::Wanda, pare::Channel, pare::GlobalScope> unbounded;
    CHECK_THROWS_WITH((void)pare::prune_and_deploy(model, unbounded, 0.5, calib),
                      Catch::Contains("removed every unit of layer 2"));
    const pare::Pruner<pare::Wanda, pare::Channel, pare::GlobalScope> pruner{
        .scope = {.ceiling = 0.75}};
    const auto small = pare::prune_and_deploy(model, pruner, 0.5, calib);
    // Channel groups are rows of 32 (fc0) and 48 (fc1) weights; the ranking stops at the first
    // group that reaches the target.
    const std::size_t total = 48 * 32 + 24 * 48;
    const std::size_t pruned =
        (48 - small.layer<0>().out_features()) * 32 + (24 - small.layer<2>().out_features()) * 48;
    CHECK(pruned >= pare::prune_count(0.5, total));
    CHECK(pruned < pare::prune_count(0.5, total) + 48);
    CHECK(small.layer<2>().in_features() == small.layer<0>().out_features());
    CHECK(small.layer<4>().in_features() == small.layer<2>().out_features());
    CHECK(small.output_size(32) == 8);
  }
  SECTION("pruned by inputs (axis 1) is refused") {
    const pare::Pruner<pare::L2, pare::Channel> by_inputs{.pattern = {.axis = 1}};
    CHECK_THROWS_AS((void)pare::prune_and_deploy(model, by_inputs, 0.5), pare::ArgumentError);
  }
}
