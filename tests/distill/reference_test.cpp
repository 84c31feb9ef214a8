// SPDX-License-Identifier: Apache-2.0
// Every loss against PyTorch (tests/data/distill/make_distill_refs.py): values within 1e-5
// relative, gradients within 1e-5 relative plus 1e-6 of the largest gradient element.
#include <catch2/catch.hpp>
#include <string>

#include "distill/distill_test_util.hpp"
#include "pare/distill.hpp"

using pare::test::check_close;
using pare::test::check_value;
using pare::test::distill_ref;

namespace {

struct Logits {
  pare::Tensor<float, 2> s, t;
  pare::Tensor<std::int32_t, 1> y;
  pare::Tensor<float, 1> mask;
  explicit Logits(const std::string& tag)
      : s(distill_ref(tag + ".s").matrix()),
        t(distill_ref(tag + ".t").matrix()),
        y(distill_ref(tag + ".y").labels()),
        mask(distill_ref(tag + ".mask").vector()) {}
  [[nodiscard]] pare::DistillBatch batch() const {
    return {.student_logits = s, .teacher_logits = t, .labels = y};
  }
};

template <class L>
void check_loss(L&& loss, const pare::DistillBatch& b, const std::string& name) {
  INFO(name);
  const auto r = pare::loss_and_grad(loss, b);
  check_value(r.loss, distill_ref(name).scalar());
  check_close(r.logits_grad.view(), distill_ref(name + ".grad").values, 1e-5);
  // The value-only path gives the same value.
  CHECK(pare::loss_value(loss, b) == r.loss);
}

}  // namespace

TEST_CASE("logit losses match PyTorch", "[distill][reference]") {
  for (const std::string tag : {"small", "wide"}) {
    const Logits d(tag);
    const auto b = d.batch();
    check_loss(pare::SoftKL{.temperature = 1}, b, tag + ".soft_kl.T1");
    check_loss(pare::SoftKL{.temperature = 4}, b, tag + ".soft_kl.T4");
    check_loss(pare::ReverseKL{.temperature = 2}, b, tag + ".reverse_kl.T2");
    check_loss(pare::JensenShannon{.temperature = 2}, b, tag + ".js.T2");
    check_loss(pare::HardLabel{}, b, tag + ".hard.eps0");
    check_loss(pare::HardLabel{.label_smoothing = 0.1f}, b, tag + ".hard.eps0.1");
    check_loss(pare::TeacherArgmax{.label_smoothing = 0.1f}, b, tag + ".argmax.eps0.1");
    check_loss(pare::DKD{.alpha = 1, .beta = 8, .temperature = 4}, b, tag + ".dkd");
    check_loss(0.7 * pare::SoftKL{.temperature = 4} + 0.3 * pare::HardLabel{}, b,
               tag + ".composed");
    auto masked = b;
    masked.mask = d.mask;
    check_loss(pare::SoftKL{.temperature = 2}, masked, tag + ".masked_kl.T2");
  }
}

TEST_CASE("soft teacher forcing over a padded sequence matches PyTorch",
          "[distill][reference][sequence]") {
  const auto& rs = distill_ref("seq.s");
  const auto& rt = distill_ref("seq.t");
  const std::size_t bsz = rs.shape[0], seq = rs.shape[1], vocab = rs.shape[2];
  pare::TensorView<const float, 3> s(rs.values.data(), {bsz, seq, vocab});
  pare::TensorView<const float, 3> t(rt.values.data(), {bsz, seq, vocab});
  pare::TensorView<const float, 2> mask(distill_ref("seq.mask").values.data(), {bsz, seq});
  const auto b = pare::sequence_batch(s, t, mask);
  REQUIRE(b.student_logits.extent(0) == bsz * seq);
  check_loss(pare::SoftTeacherForcing{}, b, "seq.T1");
  check_loss(pare::SoftTeacherForcing{.temperature = 2}, b, "seq.T2");
  // Padded positions get no gradient, whatever their logits.
  const auto r = pare::loss_and_grad(pare::SoftTeacherForcing{}, b);
  for (std::size_t j = 0; j < vocab; ++j) CHECK(r.logits_grad(std::size_t{3}, j) == 0.0f);
}

TEST_CASE("feature losses match PyTorch autograd", "[distill][reference][features]") {
  const auto fs = distill_ref("feat.s").matrix(), ft = distill_ref("feat.t").matrix();
  const pare::DistillBatch b{.student_features = fs, .teacher_features = ft};
  SECTION("mse") {
    const auto r = pare::loss_and_grad(pare::FeatureMSE{}, b);
    check_value(r.loss, distill_ref("feat.mse").scalar());
    check_close(r.features_grad.view(), distill_ref("feat.mse.grad").values, 1e-5);
    CHECK(r.logits_grad.empty());
  }
  SECTION("cosine") {
    const auto r = pare::loss_and_grad(pare::FeatureCosine{}, b);
    check_value(r.loss, distill_ref("feat.cosine").scalar());
    check_close(r.features_grad.view(), distill_ref("feat.cosine.grad").values, 1e-5);
  }
  SECTION("hint with its projector") {
    const auto hs = distill_ref("hint.s").matrix();
    pare::Hint hint(hs.extent(1), ft.extent(1));
    hint.weight() = distill_ref("hint.w").matrix();
    hint.bias() = distill_ref("hint.b").vector();
    const auto r = pare::loss_and_grad(hint, {.student_features = hs, .teacher_features = ft});
    check_value(r.loss, distill_ref("hint").scalar());
    check_close(r.features_grad.view(), distill_ref("hint.grad").values, 1e-5);
    check_close(hint.weight_grad().view(), distill_ref("hint.w.grad").values, 1e-5);
    const auto& bg = distill_ref("hint.b.grad").values;
    check_close(pare::TensorView<const float, 2>(hint.bias_grad().data(), {1, bg.size()}), bg,
                1e-5);
    // Parameters are visited weight first, and reach nn's optimizers as pare::LossParameter.
    std::size_t count = 0;
    hint.for_each_parameter([&](const pare::LossParameter& p) {
      CHECK(p.value.size() == (count == 0 ? hint.weight().size() : hint.bias().size()));
      ++count;
    });
    CHECK(count == 2);
    pare::zero_grad(hint);
    for (float v : hint.weight_grad().span()) CHECK(v == 0.0f);
  }
  SECTION("attention transfer, p = 2 and 3") {
    const auto as = distill_ref("at.s").matrix(), at = distill_ref("at.t").matrix();
    const pare::DistillBatch ab{.student_features = as, .teacher_features = at};
    for (const float p : {2.0f, 3.0f}) {
      const std::string name = p == 2.0f ? "at.p2" : "at.p3";
      INFO(name);
      const auto r = pare::loss_and_grad(pare::AttentionTransfer{.spatial = 6, .p = p}, ab);
      check_value(r.loss, distill_ref(name).scalar());
      check_close(r.features_grad.view(), distill_ref(name + ".grad").values, 1e-5);
    }
  }
}
