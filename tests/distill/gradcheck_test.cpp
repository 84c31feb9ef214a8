// SPDX-License-Identifier: Apache-2.0
// Every loss's gradient against central finite differences of its own value.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstddef>
#include <string>

#include "pare/core/random.hpp"
#include "pare/distill.hpp"

namespace {

pare::Tensor<float, 2> randn(std::size_t r, std::size_t c, float scale, std::uint64_t seed) {
  pare::Rng rng(seed);
  pare::Tensor<float, 2> t({r, c});
  for (float& v : t.span()) v = scale * rng.normal();
  return t;
}

// Central differences with step h on every element of `x` (a tensor the batch views), compared
// with the analytic gradient `g`: |fd − g| ≤ tol · max|g| + tol · |g|. The float losses are
// accurate to ~1e-7, so with h = 1e-2 rounding adds ~1e-5 and truncation O(h²).
template <class L>
void check_fd(L& loss, const pare::DistillBatch& b, pare::Tensor<float, 2>& x,
              const pare::Tensor<float, 2>& g, float h = 1e-2f, double tol = 3e-3) {
  double scale = 0;
  for (float v : g.span()) scale = std::max(scale, std::abs(static_cast<double>(v)));
  REQUIRE(scale > 0);
  for (std::size_t i = 0; i < x.extent(0); ++i) {
    for (std::size_t j = 0; j < x.extent(1); ++j) {
      const float old = x(i, j);
      x(i, j) = old + h;
      const double up = pare::loss_value(loss, b);
      x(i, j) = old - h;
      const double down = pare::loss_value(loss, b);
      x(i, j) = old;
      const double fd = (up - down) / (2.0 * h);
      INFO("element (" << i << ", " << j << "): analytic " << g(i, j) << ", numeric " << fd);
      CHECK(std::abs(fd - g(i, j)) <= tol * (scale + std::abs(g(i, j))));
    }
  }
}

template <class L>
void check_logit_loss(L loss, const std::string& name) {
  INFO(name);
  auto s = randn(4, 11, 1.5f, 1), t = randn(4, 11, 1.5f, 2);
  pare::Tensor<std::int32_t, 1> y({4});
  for (std::size_t i = 0; i < 4; ++i) y[i] = static_cast<std::int32_t>((3 * i + 1) % 11);
  pare::Tensor<float, 1> mask({4}, 1.0f);
  mask[2] = 0.0f;
  mask[3] = 0.5f;
  for (bool masked : {false, true}) {
    pare::DistillBatch b{.student_logits = s, .teacher_logits = t, .labels = y};
    if (masked) b.mask = mask;
    const auto r = pare::loss_and_grad(loss, b);
    check_fd(loss, b, s, r.logits_grad);
  }
}

}  // namespace

TEST_CASE("logit-loss gradients agree with finite differences", "[distill][gradcheck]") {
  check_logit_loss(pare::SoftKL{.temperature = 2}, "SoftKL");
  check_logit_loss(pare::ReverseKL{.temperature = 2}, "ReverseKL");
  check_logit_loss(pare::JensenShannon{.temperature = 2}, "JensenShannon");
  check_logit_loss(pare::HardLabel{.label_smoothing = 0.1f}, "HardLabel");
  check_logit_loss(pare::TeacherArgmax{.label_smoothing = 0.2f}, "TeacherArgmax");
  check_logit_loss(pare::SoftTeacherForcing{}, "SoftTeacherForcing");
  check_logit_loss(pare::DKD{.alpha = 1, .beta = 8, .temperature = 4}, "DKD");
  check_logit_loss(
      0.6 * pare::SoftKL{.temperature = 3} + 0.4 * pare::DKD{} - 0.1 * pare::ReverseKL{},
      "composed");
}

TEST_CASE("feature-loss gradients agree with finite differences", "[distill][gradcheck]") {
  auto fs = randn(3, 12, 1.0f, 5), ft = randn(3, 12, 1.0f, 6);
  const pare::DistillBatch b{.student_features = fs, .teacher_features = ft};
  SECTION("mse") {
    pare::FeatureMSE l;
    check_fd(l, b, fs, pare::loss_and_grad(l, b).features_grad);
  }
  SECTION("cosine") {
    pare::FeatureCosine l;
    check_fd(l, b, fs, pare::loss_and_grad(l, b).features_grad);
  }
  SECTION("attention transfer") {
    auto ft2 = randn(3, 20, 1.0f, 7);  // teacher with 5 channels, student with 3, H·W = 4
    const pare::DistillBatch ab{.student_features = fs, .teacher_features = ft2};
    for (float p : {2.0f, 3.0f}) {
      pare::AttentionTransfer l{.spatial = 4, .p = p};
      check_fd(l, ab, fs, pare::loss_and_grad(l, ab).features_grad);
    }
  }
  SECTION("hint: features, projector weight and bias") {
    pare::Rng rng(9);
    auto hs = randn(3, 5, 1.0f, 8);
    pare::Hint hint(5, 12, rng);
    const pare::DistillBatch hb{.student_features = hs, .teacher_features = ft};
    const auto r = pare::loss_and_grad(hint, hb);
    check_fd(hint, hb, hs, r.features_grad);
    const pare::Tensor<float, 2> gw = hint.weight_grad();
    check_fd(hint, hb, hint.weight(), gw);
    const pare::Tensor<float, 2> gb(
        pare::TensorView<const float, 2>(hint.bias_grad().data(), {1, hint.teacher_dim()}));
    // The bias as a [1, Dt] matrix: perturb it through a view of the same storage.
    pare::TensorView<float, 2> bias_view(hint.bias().data(), {1, hint.teacher_dim()});
    for (std::size_t j = 0; j < hint.teacher_dim(); ++j) {
      const float old = bias_view(std::size_t{0}, j);
      bias_view(std::size_t{0}, j) = old + 1e-2f;
      const double up = pare::loss_value(hint, hb);
      bias_view(std::size_t{0}, j) = old - 1e-2f;
      const double down = pare::loss_value(hint, hb);
      bias_view(std::size_t{0}, j) = old;
      CHECK(std::abs((up - down) / 2e-2 - gb(std::size_t{0}, j)) <= 1e-3);
    }
  }
}
