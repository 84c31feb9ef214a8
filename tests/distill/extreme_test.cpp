// SPDX-License-Identifier: Apache-2.0
// Every logit loss on extreme inputs — ±1e4 logits, all-equal logits, one-hot teachers — gives a
// finite value and gradient; strided views give the same answers as contiguous ones.
#include <catch2/catch.hpp>
#include <cmath>
#include <string>

#include "pare/core/random.hpp"
#include "pare/distill.hpp"

namespace {

template <class L>
void check_finite(L loss, const pare::DistillBatch& b, const std::string& what) {
  INFO(what);
  const auto r = pare::loss_and_grad(loss, b);
  CHECK(std::isfinite(r.loss));
  CHECK(r.loss >= -1e-4f);
  for (float g : r.logits_grad.span()) REQUIRE(std::isfinite(g));
}

template <class L>
void check_all_inputs(L loss, const std::string& name) {
  const std::size_t n = 3, c = 21;
  pare::Tensor<float, 2> big({n, c}), equal({n, c}, 2.0f), onehot({n, c}), mild({n, c});
  pare::Rng rng(1);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < c; ++j) {
      big(i, j) = ((i + j) % 3 == 0) ? 1e4f : -1e4f;
      onehot(i, j) = j == i ? 1e4f : 0.0f;
      mild(i, j) = rng.normal();
    }
  pare::Tensor<std::int32_t, 1> y({n});
  for (std::size_t i = 0; i < n; ++i) y[i] = static_cast<std::int32_t>(2 * i + 1);
  const pare::Tensor<float, 2>* inputs[] = {&big, &equal, &onehot, &mild};
  const char* names[] = {"+-1e4", "equal", "one-hot", "mild"};
  for (std::size_t a = 0; a < 4; ++a)
    for (std::size_t b = 0; b < 4; ++b)
      check_finite(loss, {.student_logits = *inputs[a], .teacher_logits = *inputs[b], .labels = y},
                   name + ": student " + names[a] + ", teacher " + names[b]);
}

}  // namespace

TEST_CASE("logit losses are finite on extreme logits", "[distill][extreme]") {
  check_all_inputs(pare::SoftKL{.temperature = 1}, "SoftKL T1");
  check_all_inputs(pare::SoftKL{.temperature = 4}, "SoftKL T4");
  check_all_inputs(pare::ReverseKL{.temperature = 2}, "ReverseKL");
  check_all_inputs(pare::JensenShannon{}, "JensenShannon");
  check_all_inputs(pare::HardLabel{.label_smoothing = 0.1f}, "HardLabel");
  check_all_inputs(pare::TeacherArgmax{}, "TeacherArgmax");
  check_all_inputs(pare::DKD{}, "DKD");
}

TEST_CASE("equal logits and a teacher equal to the student give zero", "[distill][extreme]") {
  pare::Tensor<float, 2> equal({2, 9}, -3.0f);
  const pare::DistillBatch b{.student_logits = equal, .teacher_logits = equal};
  for (const float v : {pare::loss_and_grad(pare::SoftKL{.temperature = 3}, b).loss,
                        pare::loss_and_grad(pare::ReverseKL{}, b).loss,
                        pare::loss_and_grad(pare::JensenShannon{}, b).loss})
    CHECK(std::abs(v) <= 1e-6f);
}

TEST_CASE("strided views give the same results as contiguous ones", "[distill][strided]") {
  pare::Rng rng(4);
  pare::Tensor<float, 2> wide({4, 22});
  for (float& v : wide.span()) v = 2 * rng.normal();
  // Every other column: a [4, 11] view with column stride 2.
  const pare::TensorView<const float, 2> s(wide.data(), {4, 11}, {22, 2});
  const pare::TensorView<const float, 2> t(wide.data() + 1, {4, 11}, {22, 2});
  const pare::Tensor<float, 2> sc(s), tc(t);
  pare::Tensor<std::int32_t, 1> y({4});
  for (std::size_t i = 0; i < 4; ++i) y[i] = static_cast<std::int32_t>(i);
  auto loss = pare::SoftKL{.temperature = 2} + pare::ReverseKL{} + pare::HardLabel{} + pare::DKD{} +
              pare::TeacherArgmax{};
  const auto a = pare::loss_and_grad(loss, {.student_logits = s, .teacher_logits = t, .labels = y});
  const auto b =
      pare::loss_and_grad(loss, {.student_logits = sc, .teacher_logits = tc, .labels = y});
  CHECK(a.loss == b.loss);
  // A strided gradient destination receives the same values.
  pare::Tensor<float, 2> gwide({4, 22});
  const pare::TensorView<float, 2> gs(gwide.data(), {4, 11}, {22, 2});
  (void)loss.accumulate({.student_logits = s, .teacher_logits = t, .labels = y}, 1.0f,
                        {.logits = gs});
  for (std::size_t i = 0; i < 4; ++i)
    for (std::size_t j = 0; j < 11; ++j) {
      CHECK(gs(i, j) == b.logits_grad(i, j));
      CHECK(gwide(i, 2 * j + 1) == 0.0f);
    }
}
