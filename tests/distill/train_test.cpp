// SPDX-License-Identifier: Apache-2.0
// A distillation training step end to end on the digits data: train a teacher MLP, then a small
// student from the teacher's logits (and hidden features, through a FitNets hint), with nn/'s
// Sequential and Adam. The check is that the student learns, not a benchmark of KD.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "pare/distill.hpp"
#include "pare/io/digits.hpp"
#include "pare/nn/adam.hpp"
#include "pare/nn/batches.hpp"
#include "pare/nn/linear.hpp"
#include "pare/nn/loss.hpp"
#include "pare/nn/metrics.hpp"
#include "pare/nn/relu.hpp"
#include "pare/nn/sequential.hpp"

namespace {

const pare::Split& digits() {
  static const pare::Split s = pare::train_test_split(
      pare::load_digits(std::string(PARE_EXAMPLES_DATA_DIR) + "/digits.csv"));
  return s;
}

// Debug + sanitizer builds (PARE_FULL_SWEEP == 0) train for fewer epochs.
constexpr int teacher_epochs = PARE_FULL_SWEEP ? 12 : 5;
constexpr int student_epochs = PARE_FULL_SWEEP ? 15 : 6;

}  // namespace

TEST_CASE("a student MLP learns digits from a teacher's logits and features",
          "[distill][train][slow]") {
  const auto& [train, test] = digits();
  pare::Rng rng(11);

  // Teacher: body (features) and head (logits) kept apart so its hidden layer can be matched.
  pare::Sequential t_body{pare::Linear(64, 128, rng), pare::ReLU{}, pare::Linear(128, 64, rng),
                          pare::ReLU{}};
  pare::Sequential t_head{pare::Linear(64, 10, rng)};
  {
    pare::Adam opt{.lr = 3e-3f};
    pare::BatchLoader loader(train, 32, 1);
    for (int epoch = 0; epoch < teacher_epochs; ++epoch)
      for (const pare::Batch& b : loader.epoch()) {
        t_body.zero_grad();
        t_head.zero_grad();
        auto [loss, grad] = pare::softmax_cross_entropy(t_head.forward(t_body.forward(b.x)), b.y);
        (void)t_body.backward(t_head.backward(grad));
        auto params = t_body.parameters();
        for (const auto& p : t_head.parameters()) params.push_back(p);
        opt.step(params);
      }
  }
  pare::Sequential teacher{std::move(t_body), std::move(t_head)};
  const double teacher_acc = pare::accuracy(teacher, test);
  INFO("teacher test accuracy " << teacher_acc);
  REQUIRE(teacher_acc > 0.9);

  // Student: 64 -> 16 -> 10, distilled with soft targets, a little hard-label loss, and a hint
  // from its 16 hidden units to the teacher's 64.
  pare::Sequential s_body{pare::Linear(64, 16, rng), pare::ReLU{}};
  pare::Sequential s_head{pare::Linear(16, 10, rng)};
  auto kd = 0.8 * pare::SoftKL{.temperature = 4} + 0.2 * pare::HardLabel{} +
            0.1 * pare::Hint(16, 64, rng);
  pare::Adam opt{.lr = 3e-3f};
  pare::BatchLoader loader(train, 32, 2);
  float first = 0, last = 0;
  for (int epoch = 0; epoch < student_epochs; ++epoch) {
    double sum = 0;
    for (const pare::Batch& b : loader.epoch()) {
      s_body.zero_grad();
      s_head.zero_grad();
      pare::zero_grad(kd);
      const auto t_feat = teacher.layer<0>().infer(b.x);
      const auto t_logits = teacher.layer<1>().infer(t_feat);
      const auto s_feat = s_body.forward(b.x);
      const auto s_logits = s_head.forward(s_feat);
      auto r = pare::loss_and_grad(kd, {.student_logits = s_logits,
                                        .teacher_logits = t_logits,
                                        .labels = b.y,
                                        .student_features = s_feat,
                                        .teacher_features = t_feat});
      auto g_feat = s_head.backward(r.logits_grad);
      for (std::size_t k = 0; k < g_feat.size(); ++k) g_feat.data()[k] += r.features_grad.data()[k];
      (void)s_body.backward(g_feat);
      auto params = s_body.parameters();
      for (const auto& p : s_head.parameters()) params.push_back(p);
      kd.for_each_parameter([&](pare::Parameter p) { params.push_back(p); });
      opt.step(params);
      sum += r.loss;
    }
    last = static_cast<float>(sum / static_cast<double>(loader.size()));
    if (epoch == 0) first = last;
  }
  pare::Sequential student{std::move(s_body), std::move(s_head)};
  const double student_acc = pare::accuracy(student, test);
  INFO("student test accuracy " << student_acc << ", loss " << first << " -> " << last);
  CHECK(last < 0.6f * first);
  CHECK(student_acc > 0.85);  // chance is 0.1
}

TEST_CASE("a student learns from the teacher's logits alone (no labels)",
          "[distill][train][slow]") {
  const auto& [train, test] = digits();
  pare::Rng rng(5);
  // The teacher: labels only; then the student never sees a label, only TeacherArgmax + SoftKL.
  pare::Sequential teacher{pare::Linear(64, 64, rng), pare::ReLU{}, pare::Linear(64, 10, rng)};
  pare::Adam t_opt{.lr = 3e-3f};
  pare::BatchLoader t_loader(train, 32, 3);
  for (int epoch = 0; epoch < teacher_epochs; ++epoch)
    for (const pare::Batch& b : t_loader.epoch()) {
      teacher.zero_grad();
      auto [loss, grad] = pare::softmax_cross_entropy(teacher.forward(b.x), b.y);
      (void)teacher.backward(grad);
      t_opt.step(teacher.parameters());
    }
  pare::Sequential student{pare::Linear(64, 16, rng), pare::ReLU{}, pare::Linear(16, 10, rng)};
  const auto kd = 0.5 * pare::SoftKL{.temperature = 2} + 0.5 * pare::TeacherArgmax{};
  pare::Adam opt{.lr = 3e-3f};
  pare::BatchLoader loader(train, 32, 4);
  for (int epoch = 0; epoch < student_epochs; ++epoch)
    for (const pare::Batch& b : loader.epoch()) {
      student.zero_grad();
      const auto t_logits = teacher.infer(b.x);
      const auto s_logits = student.forward(b.x);
      const auto r =
          pare::loss_and_grad(kd, {.student_logits = s_logits, .teacher_logits = t_logits});
      (void)student.backward(r.logits_grad);
      opt.step(student.parameters());
    }
  const double acc = pare::accuracy(student, test);
  INFO("student test accuracy " << acc << ", teacher " << pare::accuracy(teacher, test));
  CHECK(acc > 0.85);
}
