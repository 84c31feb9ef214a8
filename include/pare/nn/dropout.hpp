// SPDX-License-Identifier: Apache-2.0
// pare — inverted dropout (torch.nn.Dropout), seeded.
#pragma once

#include <cstddef>
#include <cstdint>

#include "pare/core/error.hpp"
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
  explicit Dropout(float p, std::uint64_t seed = 0x5eed) : p_(p), rng_(seed) {
    PARE_CHECK(p >= 0.0f && p < 1.0f, ArgumentError, "Dropout: p must be in [0, 1), got ", p);
  }

  [[nodiscard]] float p() const noexcept { return p_; }
  [[nodiscard]] std::size_t output_size(std::size_t in) const noexcept { return in; }
  void set_training(bool on) noexcept { training_ = on; }
  [[nodiscard]] bool training() const noexcept { return training_; }

  /// Draws a fresh mask (training mode) and applies it.
  [[nodiscard]] Tensor<float, 2> forward(TensorView<const float, 2> x) {
    if (!training_ || p_ == 0.0f) {
      mask_ = Tensor<float, 2>();
      return infer(x);
    }
    const float keep_scale = 1.0f / (1.0f - p_);
    mask_ = Tensor<float, 2>(x.extents());
    Tensor<float, 2> y(x.extents());
    for (std::size_t i = 0; i < x.extent(0); ++i)
      for (std::size_t j = 0; j < x.extent(1); ++j) {
        const float m = rng_.uniform() < p_ ? 0.0f : keep_scale;
        mask_(i, j) = m;
        y(i, j) = x(i, j) * m;
      }
    return y;
  }

  /// dL/dx = dL/dy times the last forward's mask (the identity after an eval-mode forward).
  [[nodiscard]] Tensor<float, 2> backward(TensorView<const float, 2> grad_out) {
    Tensor<float, 2> dx(grad_out);
    if (mask_.size() == 0) return dx;
    check_same_shape(grad_out.extents(), mask_.extents(), "Dropout::backward (gradient vs mask)");
    for (std::size_t k = 0; k < dx.size(); ++k) dx.data()[k] *= mask_.data()[k];
    return dx;
  }

  [[nodiscard]] Tensor<float, 2> infer(TensorView<const float, 2> x) const {
    return Tensor<float, 2>(x);
  }
  void infer(TensorView<const float, 1> x, TensorView<float, 1> y) const {
    check_same_shape(x.extents(), y.extents(), "Dropout");
    for (std::size_t j = 0; j < x.extent(0); ++j) y[j] = x[j];
  }

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
