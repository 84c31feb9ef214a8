// SPDX-License-Identifier: Apache-2.0
// pare — Hint (FitNets): MSE between a learned linear projection of student features and the
// teacher's features.
#pragma once

#include <cstddef>

#include "pare/core/random.hpp"
#include "pare/core/tensor.hpp"
#include "pare/distill/concepts.hpp"

namespace pare {

/// FitNets' hint loss (Romero et al. 2015): mean over elements of (W f_s + b − f_t)², with a
/// learnable projector (W [Dt, Ds], b [Dt], laid out as torch.nn.Linear) mapping the student's
/// narrower hidden features onto the teacher's. `accumulate` adds the gradient to the student's
/// features and, scaled the same way, to W and b; step them with the student's parameters:
///
///   pare::Hint hint(32, 128, rng);                       // student width 32, teacher 128
///   auto params = student.parameters();
///   hint.for_each_parameter([&](pare::Parameter p) { params.push_back(p); });
///
/// Needs student_features [N, Ds] and teacher_features [N, Dt].
class Hint {
 public:
  /// A zero projector (set weight() and bias() yourself).
  Hint(std::size_t student_dim, std::size_t teacher_dim);

  /// torch.nn.Linear's default init drawn from `rng`: W and b ~ U(−1/√Ds, 1/√Ds).
  Hint(std::size_t student_dim, std::size_t teacher_dim, Rng& rng);

  [[nodiscard]] std::size_t student_dim() const noexcept { return weight_.extent(1); }
  [[nodiscard]] std::size_t teacher_dim() const noexcept { return weight_.extent(0); }
  [[nodiscard]] Tensor<float, 2>& weight() noexcept { return weight_; }
  [[nodiscard]] const Tensor<float, 2>& weight() const noexcept { return weight_; }
  [[nodiscard]] Tensor<float, 1>& bias() noexcept { return bias_; }
  [[nodiscard]] const Tensor<float, 1>& bias() const noexcept { return bias_; }
  [[nodiscard]] const Tensor<float, 2>& weight_grad() const noexcept { return weight_grad_; }
  [[nodiscard]] const Tensor<float, 1>& bias_grad() const noexcept { return bias_grad_; }

  /// The loss (see the class comment); adds the gradient to g.features (when not empty) and to
  /// the projector's weight_grad() and bias_grad().
  float accumulate(const DistillBatch& b, float scale, const DistillGrad& g);

  /// The projector's weight and bias, with their gradients (nn layers' order: weight, bias).
  template <class F>
  void for_each_parameter(F&& f) {
    f(LossParameter{weight_.span(), weight_grad_.span()});
    f(LossParameter{bias_.span(), bias_grad_.span()});
  }

  /// Sets the projector's gradients to zero.
  void zero_grad() noexcept;

 private:
  Tensor<float, 2> weight_;
  Tensor<float, 1> bias_;
  Tensor<float, 2> weight_grad_;
  Tensor<float, 1> bias_grad_;
};

static_assert(DistillLossWithParameters<Hint>);

}  // namespace pare

#ifndef PARE_COMPILED_LIB
#include "pare/distill/hint-inl.hpp"
#endif
