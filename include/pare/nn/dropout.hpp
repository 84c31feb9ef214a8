// SPDX-License-Identifier: Apache-2.0
// pare — inverted dropout (torch.nn.Dropout), seeded.
#pragma once

#include <cstddef>
#include <cstdint>

#include "pare/core/config.hpp"
#include "pare/core/random.hpp"
#include "pare/core/tensor.hpp"
#include "pare/nn/concepts.hpp"

namespace pare {

/// In training mode (the default) each value is zeroed with probability p and the survivors are
/// scaled by 1/(1 − p), so the expected output equals the input and inference needs no rescaling;
/// in eval mode, and always in `infer`, it is the identity. The masks come from the layer's own
/// pare::Rng, so a seed gives the same masks on every platform. (torch draws differently, so the
/// masks are not torch's; the rule is.)
///
///   pare::Dropout drop(0.5f, /*seed=*/3);
class Dropout {
 public:
  explicit Dropout(float p, std::uint64_t seed = 0x5eed);

  [[nodiscard]] float p() const noexcept { return p_; }
  [[nodiscard]] std::size_t output_size(std::size_t in) const noexcept { return in; }
  void set_training(bool on) noexcept { training_ = on; }
  [[nodiscard]] bool training() const noexcept { return training_; }

  /// Draws a fresh mask (training mode) and applies it.
  [[nodiscard]] Tensor<float, 2> forward(TensorView<const float, 2> x);

  /// dL/dx = dL/dy times the last forward's mask (the identity after an eval-mode forward).
  [[nodiscard]] Tensor<float, 2> backward(TensorView<const float, 2> grad_out);

  [[nodiscard]] Tensor<float, 2> infer(TensorView<const float, 2> x) const {
    return Tensor<float, 2>(x);
  }
  void infer(TensorView<const float, 1> x, TensorView<float, 1> y) const;

  template <class F>
  void for_each_parameter(F&& /*f*/) noexcept {}

 private:
  float p_;
  Rng rng_;
  Tensor<float, 2> mask_;
  bool training_ = true;
};

static_assert(Layer<Dropout>);

}  // namespace pare

#ifndef PARE_COMPILED_LIB
#include "pare/nn/dropout-inl.hpp"
#endif
