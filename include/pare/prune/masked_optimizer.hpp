// SPDX-License-Identifier: Apache-2.0
// pare — MaskedOptimizer: fine-tune a pruned model without regrowing the pruned weights.
#pragma once

#include <cstddef>
#include <span>
#include <utility>
#include <vector>

#include "pare/core/error.hpp"
#include "pare/core/tensor.hpp"
#include "pare/prune/mask.hpp"

namespace pare {

/// Wraps any optimizer (pare::Adam, pare::SGD, a user's) and keeps pruned weights at zero: before
/// each step it zeroes their gradients (so no momentum builds up for them), after it zeroes the
/// weights themselves. Parameters without a registered mask are stepped as usual. It satisfies
/// pare::Optimizer (nn/concepts.hpp) whenever the wrapped optimizer does.
///
///   pare::MaskedOptimizer opt{pare::Adam{.lr = 1e-3f}};
///   opt.set_mask(fc.weight(), mask);               // applies the mask now, and after each step
///   opt.step(model.parameters());
///
/// Masks are matched to parameters by the address of their values, so the layers must not move
/// (or be resized) while the optimizer is in use; call set_mask again after they do.
template <class Inner>
class MaskedOptimizer {
 public:
  explicit MaskedOptimizer(Inner inner) : inner_(std::move(inner)) {}

  /// Keeps `weights` pruned to `mask` from now on (replacing an earlier mask for them) and
  /// applies it at once.
  void set_mask(TensorView<float, 2> weights, Mask mask) {
    check_same_shape(weights.extents(), mask.extents(), "MaskedOptimizer::set_mask");
    PARE_CHECK(weights.is_contiguous(), ArgumentError,
               "MaskedOptimizer::set_mask needs contiguous weights");
    apply_mask(weights, mask);
    for (auto& [data, m] : masks_)
      if (data == weights.data()) {
        m = std::move(mask);
        return;
      }
    masks_.emplace_back(weights.data(), std::move(mask));
  }

  /// Forgets every mask (dense fine-tuning from here on).
  void clear_masks() noexcept { masks_.clear(); }

  /// @tparam Params a range of pare::Parameter (a span or a vector)
  template <class Params>
  void step(const Params& params) {
    for (const auto& p : params)
      if (const Mask* m = find(p.value.data())) zero_pruned(p.grad, *m);
    inner_.step(params);
    for (const auto& p : params)
      if (const Mask* m = find(p.value.data())) zero_pruned(p.value, *m);
  }

  [[nodiscard]] Inner& inner() noexcept { return inner_; }
  [[nodiscard]] const Inner& inner() const noexcept { return inner_; }

 private:
  [[nodiscard]] const Mask* find(const float* data) const noexcept {
    for (const auto& [d, m] : masks_)
      if (d == data) return &m;
    return nullptr;
  }
  static void zero_pruned(std::span<float> values, const Mask& m) {
    PARE_CHECK(values.size() == m.size(), ShapeError, "MaskedOptimizer: a parameter of ",
               values.size(), " values has a mask of ", m.size());
    const std::uint8_t* keep = m.data();
    for (std::size_t i = 0; i < values.size(); ++i)
      if (!keep[i]) values[i] = 0.0f;
  }

  Inner inner_;
  std::vector<std::pair<float*, Mask>> masks_;
};

}  // namespace pare
