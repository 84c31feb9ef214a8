// SPDX-License-Identifier: Apache-2.0
// Compile-time composition: weighted sums of values and gradients, a user's own loss composing
// with the built-ins, parameters visited through the composition, and errors for bad input.
#include <catch2/catch.hpp>
#include <cmath>
#include <type_traits>
#include <vector>

#include "pare/core/random.hpp"
#include "pare/distill.hpp"
#include "pare/nn/parameter.hpp"

namespace user {

// Logit matching (Ba & Caruana 2014): ½ mean over rows of ‖s − t‖², written as a user would,
// outside namespace pare. The empty base makes pare's operators reachable by ADL.
struct LogitMatching : pare::ComposableLoss {
  float accumulate(const pare::DistillBatch& b, float scale, const pare::DistillGrad& g) const {
    const std::size_t n = b.student_logits.extent(0), c = b.student_logits.extent(1);
    double total = 0;
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < c; ++j) {
        const float d = b.student_logits(i, j) - b.teacher_logits(i, j);
        total += 0.5 * d * d / static_cast<double>(n);
        if (!g.logits.empty()) g.logits(i, j) += scale * d / static_cast<float>(n);
      }
    return static_cast<float>(total);
  }
};

// The same without the base: composes only where `using pare::operator*;` is in scope.
struct PlainLogitMatching {
  float accumulate(const pare::DistillBatch& b, float scale, const pare::DistillGrad& g) const {
    return LogitMatching{}.accumulate(b, scale, g);
  }
};

}  // namespace user

// No using-declaration is in scope here: a user's loss composes through ADL alone when it
// derives from pare::ComposableLoss, in every position. (Concepts, because an ill-formed
// expression in a requires-expression outside a template is an error, not `false`.)
template <class L>
concept WeightedOnTheRight = requires(L l) { 0.5 * l; };
template <class L>
concept ComposesWithSoftKL = requires(L l) { 0.5 * pare::SoftKL{.temperature = 4} + 0.5 * l; };
template <class L>
concept SubtractsScaled = requires(L l) { l * 0.5 - l; };
static_assert(WeightedOnTheRight<user::LogitMatching> && ComposesWithSoftKL<user::LogitMatching> &&
              SubtractsScaled<user::LogitMatching>);
static_assert(
    std::is_same_v<decltype(0.5 * pare::SoftKL{} + 0.5 * user::LogitMatching{}),
                   pare::Sum<pare::Scaled<pare::SoftKL>, pare::Scaled<user::LogitMatching>>>);
static_assert(!WeightedOnTheRight<user::PlainLogitMatching>);
static_assert(sizeof(user::LogitMatching) == 1 && std::is_empty_v<user::LogitMatching>);

namespace {

pare::Tensor<float, 2> randn(std::size_t r, std::size_t c, float scale, std::uint64_t seed) {
  pare::Rng rng(seed);
  pare::Tensor<float, 2> t({r, c});
  for (float& v : t.span()) v = scale * rng.normal();
  return t;
}

}  // namespace

static_assert(pare::DistillLoss<user::LogitMatching>);
static_assert(pare::DistillLoss<pare::SoftKL> && pare::DistillLoss<pare::ReverseKL> &&
              pare::DistillLoss<pare::JensenShannon> && pare::DistillLoss<pare::HardLabel> &&
              pare::DistillLoss<pare::TeacherArgmax> &&
              pare::DistillLoss<pare::SoftTeacherForcing> && pare::DistillLoss<pare::FeatureMSE> &&
              pare::DistillLoss<pare::FeatureCosine> &&
              pare::DistillLoss<pare::AttentionTransfer> && pare::DistillLoss<pare::DKD> &&
              pare::DistillLossWithParameters<pare::Hint>);
static_assert(!pare::DistillLossWithParameters<pare::SoftKL>);
static_assert(!pare::DistillLoss<int>);
// The composed loss is a type, built at compile time.
static_assert(
    std::is_same_v<decltype(0.7 * pare::SoftKL{.temperature = 4} + 0.3 * pare::HardLabel{}),
                   pare::Sum<pare::Scaled<pare::SoftKL>, pare::Scaled<pare::HardLabel>>>);
static_assert(pare::DistillLoss<pare::Sum<pare::Scaled<pare::SoftKL>, user::LogitMatching>>);
static_assert(pare::DistillLossWithParameters<pare::Sum<pare::SoftKL, pare::Scaled<pare::Hint>>>);
// LossParameter converts to nn's Parameter (distill/ does not include nn/).
static_assert(std::is_convertible_v<pare::LossParameter, pare::Parameter>);

TEST_CASE("a composed loss is the weighted sum of its terms", "[distill][compose]") {
  const auto s = randn(5, 13, 2.0f, 1), t = randn(5, 13, 2.0f, 2);
  pare::Tensor<std::int32_t, 1> y({5});
  for (std::size_t i = 0; i < 5; ++i) y[i] = static_cast<std::int32_t>(i * 2);
  const pare::DistillBatch b{.student_logits = s, .teacher_logits = t, .labels = y};

  const auto kd = pare::loss_and_grad(pare::SoftKL{.temperature = 4}, b);
  const auto ce = pare::loss_and_grad(pare::HardLabel{.label_smoothing = 0.1f}, b);
  const auto lm = pare::loss_and_grad(user::LogitMatching{}, b);

  auto loss = 0.7 * pare::SoftKL{.temperature = 4} +
              0.3 * pare::HardLabel{.label_smoothing = 0.1f} + 0.05 * user::LogitMatching{};
  const auto r = pare::loss_and_grad(loss, b);
  CHECK(r.loss == Approx(0.7 * kd.loss + 0.3 * ce.loss + 0.05 * lm.loss).epsilon(1e-6));
  for (std::size_t i = 0; i < 5; ++i)
    for (std::size_t j = 0; j < 13; ++j)
      CHECK(r.logits_grad(i, j) == Approx(0.7 * kd.logits_grad(i, j) + 0.3 * ce.logits_grad(i, j) +
                                          0.05 * lm.logits_grad(i, j))
                                       .margin(1e-7));

  // Right-hand weights, subtraction and a user loss on the left also compose.
  const auto d = pare::loss_and_grad(user::LogitMatching{} * 2.0 - pare::SoftKL{}, b);
  const auto kd1 = pare::loss_and_grad(pare::SoftKL{}, b);
  CHECK(d.loss == Approx(2 * lm.loss - kd1.loss).epsilon(1e-6));
}

TEST_CASE("parameters of a composed loss are visited and zeroed", "[distill][compose]") {
  pare::Rng rng(3);
  const auto s = randn(4, 6, 1.0f, 1), t = randn(4, 6, 1.0f, 2);
  const auto fs = randn(4, 3, 1.0f, 3), ft = randn(4, 8, 1.0f, 4);
  auto loss = pare::SoftKL{.temperature = 2} + 0.5 * pare::Hint(3, 8, rng);
  const pare::DistillBatch b{
      .student_logits = s, .teacher_logits = t, .student_features = fs, .teacher_features = ft};
  const auto r = pare::loss_and_grad(loss, b);
  CHECK(r.logits_grad.extents() == s.extents());
  CHECK(r.features_grad.extents() == fs.extents());
  std::vector<pare::Parameter> params;  // what nn's optimizers take
  loss.for_each_parameter([&](pare::Parameter p) { params.push_back(p); });
  REQUIRE(params.size() == 2);
  CHECK(params[0].value.size() == 24);
  // The projector's gradient carries the composition weight: 0.5 · that of a lone Hint.
  pare::Hint alone = loss.second.loss;
  alone.zero_grad();
  (void)pare::loss_and_grad(alone, b);
  for (std::size_t k = 0; k < 24; ++k)
    CHECK(params[0].grad[k] == Approx(0.5f * alone.weight_grad().data()[k]).margin(1e-7));
  pare::zero_grad(loss);
  for (float g : params[0].grad) CHECK(g == 0.0f);
}

TEST_CASE("bad input gives clear errors", "[distill][errors]") {
  const auto s = randn(3, 5, 1.0f, 1), t = randn(3, 4, 1.0f, 2);
  pare::Tensor<std::int32_t, 1> y({3});
  y[1] = 7;
  CHECK_THROWS_AS(pare::loss_and_grad(pare::SoftKL{}, {.student_logits = s, .teacher_logits = t}),
                  pare::ShapeError);
  CHECK_THROWS_WITH(pare::loss_and_grad(pare::SoftKL{}, {.student_logits = s}),
                    Catch::Contains("teacher_logits"));
  CHECK_THROWS_WITH(pare::loss_and_grad(pare::HardLabel{}, {.student_logits = s}),
                    Catch::Contains("labels"));
  CHECK_THROWS_AS(pare::loss_and_grad(pare::HardLabel{}, {.student_logits = s, .labels = y}),
                  pare::ArgumentError);
  CHECK_THROWS_AS(pare::loss_and_grad(pare::SoftKL{.temperature = 0},
                                      {.student_logits = s, .teacher_logits = s}),
                  pare::ArgumentError);
  CHECK_THROWS_AS(
      pare::loss_and_grad(pare::HardLabel{.label_smoothing = 1.5f},
                          {.student_logits = s, .labels = pare::Tensor<std::int32_t, 1>({3})}),
      pare::ArgumentError);
  pare::Tensor<float, 1> bad_mask({2}, 1.0f), neg_mask({3}, -1.0f);
  CHECK_THROWS_AS(pare::loss_and_grad(pare::SoftKL{},
                                      {.student_logits = s, .teacher_logits = s, .mask = bad_mask}),
                  pare::ShapeError);
  CHECK_THROWS_AS(pare::loss_and_grad(pare::SoftKL{},
                                      {.student_logits = s, .teacher_logits = s, .mask = neg_mask}),
                  pare::ArgumentError);
  CHECK_THROWS_AS(pare::loss_and_grad(pare::AttentionTransfer{},
                                      {.student_features = s, .teacher_features = s}),
                  pare::ArgumentError);
  CHECK_THROWS_AS(pare::loss_and_grad(pare::AttentionTransfer{.spatial = 2},
                                      {.student_features = s, .teacher_features = s}),
                  pare::ShapeError);
  pare::Hint hint(4, 4);
  CHECK_THROWS_AS(pare::loss_and_grad(hint, {.student_features = s, .teacher_features = t}),
                  pare::ShapeError);
  // A fully masked batch is 0 with a zero gradient, not NaN.
  pare::Tensor<float, 1> none({3}, 0.0f);
  const auto r =
      pare::loss_and_grad(pare::SoftKL{}, {.student_logits = s, .teacher_logits = s, .mask = none});
  CHECK(r.loss == 0.0f);
  // Sequences whose batch and sequence dimensions are not packed cannot be viewed as rows.
  pare::Tensor<float, 3> seq({2, 3, 4});
  const pare::TensorView<const float, 3> strided = seq.view().slice(1, 0, 2);
  CHECK_THROWS_AS(pare::sequence_batch(strided, strided), pare::ShapeError);
}

TEST_CASE("every loss checks that the rows of its inputs pair up", "[distill][errors]") {
  // The student has 3 rows; each other tensor is given with 2 and with 4 rows, so a loss that
  // trusted the student's row count would read past the shorter one or pair rows wrongly.
  const auto s = randn(3, 5, 1.0f, 1), fs = randn(3, 8, 1.0f, 2);
  for (std::size_t rows : {std::size_t{2}, std::size_t{4}}) {
    CAPTURE(rows);
    const auto t = randn(rows, 5, 1.0f, 3), ft = randn(rows, 8, 1.0f, 4);
    const pare::Tensor<std::int32_t, 1> y({rows});
    const pare::Tensor<float, 1> mask({rows}, 1.0f);
    const pare::DistillBatch teacher{.student_logits = s, .teacher_logits = t};
    const pare::DistillBatch labels{.student_logits = s, .teacher_logits = s, .labels = y};
    const pare::DistillBatch features{.student_features = fs, .teacher_features = ft};
    const pare::DistillBatch masked{.student_logits = s, .teacher_logits = s, .mask = mask};
    CHECK_THROWS_AS(pare::loss_and_grad(pare::SoftKL{}, teacher), pare::ShapeError);
    CHECK_THROWS_AS(pare::loss_and_grad(pare::ReverseKL{}, teacher), pare::ShapeError);
    CHECK_THROWS_AS(pare::loss_and_grad(pare::JensenShannon{}, teacher), pare::ShapeError);
    CHECK_THROWS_AS(pare::loss_and_grad(pare::TeacherArgmax{}, teacher), pare::ShapeError);
    CHECK_THROWS_AS(pare::loss_and_grad(pare::SoftTeacherForcing{}, teacher), pare::ShapeError);
    CHECK_THROWS_AS(pare::loss_and_grad(pare::DKD{}, teacher), pare::ShapeError);
    CHECK_THROWS_AS(pare::loss_and_grad(pare::HardLabel{}, labels), pare::ShapeError);
    CHECK_THROWS_AS(pare::loss_and_grad(pare::DKD{}, labels), pare::ShapeError);
    CHECK_THROWS_AS(pare::loss_and_grad(pare::FeatureMSE{}, features), pare::ShapeError);
    CHECK_THROWS_AS(pare::loss_and_grad(pare::FeatureCosine{}, features), pare::ShapeError);
    CHECK_THROWS_AS(pare::loss_and_grad(pare::AttentionTransfer{.spatial = 4}, features),
                    pare::ShapeError);
    pare::Hint hint(8, 8);
    CHECK_THROWS_AS(pare::loss_and_grad(hint, features), pare::ShapeError);
    CHECK_THROWS_AS(pare::loss_and_grad(pare::SoftKL{}, masked), pare::ShapeError);
    // A gradient buffer of the wrong row count is refused before anything is written.
    pare::Tensor<float, 2> g({rows, 5});
    CHECK_THROWS_AS(pare::SoftKL{}.accumulate({.student_logits = s, .teacher_logits = s}, 1.0f,
                                              {.logits = g.view()}),
                    pare::ShapeError);
  }
}
