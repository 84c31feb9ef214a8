// SPDX-License-Identifier: Apache-2.0
// SparseGPT against a torch port of the reference code (make_prune_refs.py), and SparseGPT / Wanda
// against magnitude pruning on layer-output error.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "pare/prune/criteria.hpp"
#include "pare/prune/pruner.hpp"
#include "pare/prune/sparsegpt.hpp"
#include "prune_test_util.hpp"

using pare::test::prune_ref;
using pare::test::relative_output_error;

namespace {
// 2XᵀX/N in double, by plain loops (an independent path from LayerHessian's rank update).
pare::Tensor<double, 2> hessian_of(const double* x, std::size_t n, std::size_t d) {
  pare::Tensor<double, 2> h({d, d});
  for (std::size_t s = 0; s < n; ++s)
    for (std::size_t i = 0; i < d; ++i)
      for (std::size_t j = 0; j < d; ++j)
        h(i, j) += 2.0 * x[s * d + i] * x[s * d + j] / static_cast<double>(n);
  return h;
}

pare::Tensor<double, 2> identity(std::size_t n, double diagonal = 1.0) {
  pare::Tensor<double, 2> h({n, n});
  for (std::size_t i = 0; i < n; ++i) h(i, i) = diagonal;
  return h;
}

pare::Tensor<double, 2> reference_hessian(const pare::test::Ref& x) {
  return hessian_of(x.values.data(), x.shape[0], x.shape[1]);
}

// Relative output errors of magnitude and Wanda (both with `pattern`) and SparseGPT (unstructured
// per block, or N:M) at 50 % on inputs x.
struct Errors {
  double magnitude, wanda, sparsegpt;
};

template <class Pattern>
Errors compare(pare::TensorView<const float, 2> w, pare::TensorView<const float, 2> x,
               Pattern pattern) {
  constexpr bool nm = !pare::GroupedPattern<Pattern> && !std::is_same_v<Pattern, pare::PerRow>;
  // The same pattern for both criteria, so that only the criterion differs.
  auto mag = pare::Tensor<float, 2>(w);
  pare::apply_mask(mag.view(), pare::Pruner<pare::Magnitude, Pattern>{.pattern = pattern}.mask(
                                   {.weights = w}, 0.5));
  const auto norms = pare::input_norms(x);
  auto wanda = pare::Tensor<float, 2>(w);
  pare::apply_mask(wanda.view(), pare::Pruner<pare::Wanda, Pattern>{.pattern = pattern}.mask(
                                     {.weights = w, .input_norms = norms}, 0.5));
  pare::LayerHessian h(w.extent(1));
  // In two batches, to exercise the running mean.
  h.add(x.slice(0, 0, x.extent(0) / 2));
  h.add(x.slice(0, x.extent(0) / 2, x.extent(0)));
  auto sgpt = pare::Tensor<float, 2>(w);
  pare::SparseGptResult r;
  if constexpr (nm) {
    r = pare::sparsegpt(sgpt.view(), h.matrix(), pattern, {.block_size = 32});
  } else {
    r = pare::sparsegpt(sgpt.view(), h.matrix(), 0.5, {.block_size = 32});
  }
  REQUIRE(r.status == pare::SparseGptStatus::ok);
  CHECK(pare::sparsity(r.mask) == Approx(0.5).margin(0.01));
  return {relative_output_error(x, w, mag), relative_output_error(x, w, wanda),
          relative_output_error(x, w, sgpt)};
}
}  // namespace

TEST_CASE("SparseGPT equals the reference code (unstructured 50 % and 2:4)", "[prune][sparsegpt]") {
  const pare::Tensor<double, 2> h = reference_hessian(prune_ref("sgpt.x"));
  for (const char* name : {"sgpt.unstructured50", "sgpt.nm24"}) {
    auto w = prune_ref("sgpt.w").matrix();
    const pare::SparseGptOptions opt{.damping = 0.01, .block_size = 8};
    const auto r = std::string(name) == "sgpt.nm24"
                       ? pare::sparsegpt(w.view(), h, pare::NM<2, 4>{}, opt)
                       : pare::sparsegpt(w.view(), h, 0.5, opt);
    REQUIRE(r.status == pare::SparseGptStatus::ok);
    const auto want = prune_ref(name).matrix();
    INFO(name);
    std::size_t zero_mismatch = 0;
    for (std::size_t i = 0; i < w.size(); ++i) {
      zero_mismatch += (w.data()[i] == 0.0f) != (want.data()[i] == 0.0f);
      CHECK(w.data()[i] == Approx(want.data()[i]).epsilon(1e-4).margin(1e-5));
      CHECK((r.mask.data()[i] != 0) == (want.data()[i] != 0.0f));
    }
    CHECK(zero_mismatch == 0);
    CHECK(pare::sparsity(w.view()) == 0.5);
  }
}

TEST_CASE("LayerHessian is 2XᵀX/N over all batches", "[prune][sparsegpt]") {
  pare::Rng rng(5);
  pare::Tensor<float, 2> x({37, 9});
  for (float& v : x.span()) v = rng.normal();
  pare::LayerHessian h(9);
  h.add(x.view().slice(0, 0, 10));
  h.add(x.view().slice(0, 10, 11));
  h.add(x.view().slice(0, 11, 37));
  CHECK(h.samples() == 37);
  std::vector<double> xd(x.span().begin(), x.span().end());
  const pare::Tensor<double, 2> want = hessian_of(xd.data(), 37, 9);
  double err = 0, scale = 0;
  for (std::size_t i = 0; i < 9; ++i)
    for (std::size_t j = 0; j < 9; ++j) {
      err = std::max(err, std::abs(h.matrix()(i, j) - want(i, j)));
      scale = std::max(scale, std::abs(want(i, j)));
    }
  CHECK(err < 1e-12 * scale + 1e-12);
  CHECK_THROWS_AS(h.add(pare::Tensor<float, 2>({2, 8})), pare::ShapeError);
}

TEST_CASE("SparseGPT status and argument checks", "[prune][sparsegpt]") {
  auto w = prune_ref("sgpt.w").matrix();
  const pare::Tensor<double, 2> h = identity(24, -1.0);
  CHECK(pare::sparsegpt(w.view(), h, 0.5, {.damping = 0.0}).status ==
        pare::SparseGptStatus::not_positive_definite);
  CHECK_THROWS_AS(pare::sparsegpt(w.view(), identity(5), 0.5), pare::ShapeError);
  CHECK_THROWS_AS(pare::sparsegpt(w.view(), identity(24), 1.0), pare::ArgumentError);
  CHECK_THROWS_AS(pare::sparsegpt(w.view(), identity(24), pare::NM<2, 4>{}, {.block_size = 6}),
                  pare::ArgumentError);
  // Dead inputs (always zero) lose their weights and do not break the factorisation.
  pare::Tensor<double, 2> hd = identity(24);
  hd(3, 3) = 0;
  const auto r = pare::sparsegpt(w.view(), hd, 0.25);
  CHECK(r.status == pare::SparseGptStatus::ok);
  for (std::size_t o = 0; o < 16; ++o) CHECK(w(o, std::size_t{3}) == 0.0f);
}

TEST_CASE("SparseGPT and Wanda beat magnitude on a random layer with correlated inputs",
          "[prune][sparsegpt]") {
  // Inputs with very different scales and strong correlation: X = Z·A with A mixing features.
  pare::Rng rng(17);
  const std::size_t n = 512, in = 96, out = 48;
  pare::Tensor<float, 2> z({n, in}), a({in, in}), x({n, in}), w({out, in});
  for (float& v : z.span()) v = rng.normal();
  for (std::size_t i = 0; i < in; ++i)
    for (std::size_t j = 0; j < in; ++j)
      a(i, j) = (i == j ? 1.0f : 0.0f) + 0.8f * rng.normal() / std::sqrt(float(in));
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < in; ++j) {
      float s = 0;
      for (std::size_t k = 0; k < in; ++k) s += z(i, k) * a(k, j);
      x(i, j) = s * (0.2f + 3.0f * float(j % 7) / 7.0f);  // per-feature scales
    }
  for (float& v : w.span()) v = rng.normal();
  const auto u = compare<pare::PerRow>(w, x, pare::PerRow{});
  INFO("unstructured: magnitude " << u.magnitude << " wanda " << u.wanda << " sparsegpt "
                                  << u.sparsegpt);
  CHECK(u.wanda < u.magnitude);
  CHECK(u.sparsegpt < u.wanda);
  const auto s = compare<pare::NM<2, 4>>(w, x, pare::NM<2, 4>{});
  INFO("2:4: magnitude " << s.magnitude << " wanda " << s.wanda << " sparsegpt " << s.sparsegpt);
  CHECK(s.wanda < s.magnitude);
  CHECK(s.sparsegpt < s.wanda);
}

TEST_CASE("SparseGPT and Wanda beat magnitude on the trained digits MLP's layers",
          "[prune][sparsegpt][digits]") {
  auto model = pare::test::trained_digits().model;
  const auto& train = pare::test::trained_digits().data.train;
  // The inputs of each Linear layer on the training set.
  const pare::Tensor<float, 2> x0(train.x.view());
  const auto x1 = model.layer<1>().infer(model.layer<0>().infer(x0));
  const auto x2 = model.layer<3>().infer(model.layer<2>().infer(x1));
  auto check_layer = [](const char* name, const pare::Tensor<float, 2>& w,
                        const pare::Tensor<float, 2>& x) {
    const auto u = compare<pare::PerRow>(w, x, pare::PerRow{});
    const auto s = compare<pare::NM<2, 4>>(w, x, pare::NM<2, 4>{});
    INFO(name << " 50%: magnitude " << u.magnitude << " wanda " << u.wanda << " sparsegpt "
              << u.sparsegpt << "; 2:4: magnitude " << s.magnitude << " wanda " << s.wanda
              << " sparsegpt " << s.sparsegpt);
    CHECK(u.wanda < u.magnitude);
    CHECK(u.sparsegpt < u.magnitude);
    CHECK(s.wanda < s.magnitude);
    CHECK(s.sparsegpt < s.magnitude);
  };
  check_layer("fc0", model.layer<0>().weight(), x0);
  check_layer("fc1", model.layer<2>().weight(), x1);
  check_layer("fc2", model.layer<4>().weight(), x2);
}
