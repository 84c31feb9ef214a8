// SPDX-License-Identifier: Apache-2.0
// custom_loss: write your own distillation loss and compose it with pare's built-in ones.
//
//   custom_loss [data-dir]      (default: pare's examples/data)
//
// A loss is any type with
//   float accumulate(const pare::DistillBatch&, float scale, const pare::DistillGrad&)
// that returns its value and adds scale · (its gradient) to the gradient views it is given
// (pare::DistillLoss in pare/distill/concepts.hpp). Here: a confidence penalty (Pereyra et al.
// 2017) — minus the entropy of the student's softmax, which discourages over-confident students —
// composed with soft targets and hard labels to distill a digits teacher into a small student.
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "pare/distill.hpp"
#include "pare/io/digits.hpp"
#include "pare/kernels/softmax.hpp"
#include "pare/nn/adam.hpp"
#include "pare/nn/batches.hpp"
#include "pare/nn/linear.hpp"
#include "pare/nn/loss.hpp"
#include "pare/nn/metrics.hpp"
#include "pare/nn/relu.hpp"
#include "pare/nn/sequential.hpp"

#ifndef PARE_EXAMPLES_DATA_DIR  // set by examples/CMakeLists.txt; a copied example looks here
#define PARE_EXAMPLES_DATA_DIR "examples/data"
#endif

namespace my {

/// −H(softmax(s)) averaged over rows: Σ p log p. Its gradient wrt the logits is
/// p ⊙ (log p − Σ p log p).
// Deriving from pare::ComposableLoss (empty) lets `0.1 * ConfidencePenalty{}` find pare's
// operators by argument-dependent lookup, with no `using` declaration.
struct ConfidencePenalty : pare::ComposableLoss {
  float accumulate(const pare::DistillBatch& b, float scale, const pare::DistillGrad& g) const {
    // Check what you read, as the built-in losses do.
    if (b.student_logits.empty()) throw pare::ShapeError("ConfidencePenalty needs student_logits");
    const std::size_t n = b.student_logits.extent(0), c = b.student_logits.extent(1);
    std::vector<float> row(c);
    double total = 0;
    for (std::size_t i = 0; i < n; ++i) {
      pare::log_softmax(b.student_logits[i], pare::TensorView<float, 1>(row.data(), {c}));
      double neg_entropy = 0;
      for (float lp : row) neg_entropy += std::exp(lp) * lp;
      total += neg_entropy / static_cast<double>(n);
      if (g.logits.empty()) continue;  // value only
      for (std::size_t j = 0; j < c; ++j)
        g.logits(i, j) += scale * std::exp(row[j]) * static_cast<float>(row[j] - neg_entropy) /
                          static_cast<float>(n);
    }
    return static_cast<float>(total);
  }
};

}  // namespace my

static_assert(pare::DistillLoss<my::ConfidencePenalty>);

int main(int argc, char** argv) try {
  const std::string dir = argc > 1 ? argv[1] : PARE_EXAMPLES_DATA_DIR;
  const auto [train, test] = pare::train_test_split(pare::load_digits(dir + "/digits.csv"));
  pare::Rng rng(7);

  // A teacher trained on the labels.
  pare::Sequential teacher{pare::Linear(64, 128, rng), pare::ReLU{}, pare::Linear(128, 10, rng)};
  pare::Adam t_opt{.lr = 3e-3f};
  pare::BatchLoader t_batches(train, 32, 1);
  for (int epoch = 0; epoch < 10; ++epoch)
    for (const pare::Batch& b : t_batches.epoch()) {
      teacher.zero_grad();
      auto [loss, grad] = pare::softmax_cross_entropy(teacher.forward(b.x), b.y);
      (void)teacher.backward(grad);
      t_opt.step(teacher.parameters());
    }

  // The composed loss: its type is Sum<Sum<Scaled<SoftKL>, Scaled<HardLabel>>,
  // Scaled<my::ConfidencePenalty>>, fixed at compile time. `0.1 * my::ConfidencePenalty{}` finds
  // pare's operator* because the loss derives from pare::ComposableLoss.
  const auto kd = 0.7 * pare::SoftKL{.temperature = 4} +
                  0.3 * pare::HardLabel{.label_smoothing = 0.05f} + 0.1 * my::ConfidencePenalty{};

  pare::Sequential student{pare::Linear(64, 16, rng), pare::ReLU{}, pare::Linear(16, 10, rng)};
  pare::Adam opt{.lr = 3e-3f};
  pare::BatchLoader batches(train, 32, 2);
  std::printf("%5s %10s %9s\n", "epoch", "loss", "test acc");
  for (int epoch = 1; epoch <= 15; ++epoch) {
    double sum = 0;
    for (const pare::Batch& b : batches.epoch()) {
      student.zero_grad();
      const auto t_logits = teacher.infer(b.x);  // the teacher only runs forward
      const auto s_logits = student.forward(b.x);
      const auto r = pare::loss_and_grad(
          kd, {.student_logits = s_logits, .teacher_logits = t_logits, .labels = b.y});
      (void)student.backward(r.logits_grad);
      opt.step(student.parameters());
      sum += r.loss;
    }
    if (epoch % 5 == 0)
      std::printf("%5d %10.4f %8.2f%%\n", epoch, sum / static_cast<double>(batches.size()),
                  100 * pare::accuracy(student, test));
  }
  std::printf("teacher %.2f%% (%zu parameters), student %.2f%% (%zu parameters)\n",
              100 * pare::accuracy(teacher, test), teacher.parameter_count(),
              100 * pare::accuracy(student, test), student.parameter_count());
  return 0;
} catch (const pare::Error& e) {
  std::fprintf(stderr, "custom_loss: %s\n", e.what());
  return 1;
}
