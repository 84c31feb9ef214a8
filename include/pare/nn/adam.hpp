// SPDX-License-Identifier: Apache-2.0
// pare — Adam and AdamW, as torch.optim.Adam and torch.optim.AdamW (amsgrad off).
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "pare/core/config.hpp"
#include "pare/nn/concepts.hpp"
#include "pare/nn/parameter.hpp"

namespace pare {

namespace detail {

/// Adam's moments, by parameter position, and the step count.
struct AdamState {
  std::vector<std::vector<float>> m, v;
  std::size_t t = 0;
};

/// One Adam step with PyTorch's arithmetic. `l2` adds l2·p to the gradient (torch.optim.Adam's
/// weight_decay); `decoupled` first shrinks p by lr·decoupled·p (torch.optim.AdamW's).
void adam_step(AdamState& state, std::span<const Parameter> params, float lr, float beta1,
               float beta2, float eps, float l2, float decoupled, const char* who);

}  // namespace detail

/// Adam (Kingma & Ba) with PyTorch's arithmetic, so results match torch.optim.Adam to rounding:
///   g = grad + weight_decay · p;  m = β₁m + (1−β₁)g;  v = β₂v + (1−β₂)g²
///   p -= (lr / (1−β₁ᵗ)) · m / (√v / √(1−β₂ᵗ) + eps)
///
///   pare::Adam opt{.lr = 1e-3f};
///   opt.step(model.parameters());
struct Adam {
  float lr = 1e-3f;
  float beta1 = 0.9f;
  float beta2 = 0.999f;
  float eps = 1e-8f;
  float weight_decay = 0.0f;  ///< L2 added to the gradient (torch.optim.Adam), not AdamW

  /// @pre the same parameters, in the same order, on every call (moments are positional)
  void step(std::span<const Parameter> params) {
    detail::adam_step(state_, params, lr, beta1, beta2, eps, weight_decay, 0.0f, "Adam::step");
  }

  /// Number of steps taken so far.
  [[nodiscard]] std::size_t steps() const noexcept { return state_.t; }

  /// Forgets the moments (the next step is step 1 again).
  void reset() noexcept { state_ = {}; }

  // Optimizer state. Public only so that Adam stays an aggregate (designated initializers);
  // not part of the API.
  detail::AdamState state_{};
};

static_assert(Optimizer<Adam>);

/// AdamW (Loshchilov & Hutter), as torch.optim.AdamW: weight decay is decoupled from the
/// gradient — each step first shrinks p by lr·weight_decay·p, then takes the plain Adam step —
/// so the decay does not pass through the adaptive scaling (unlike Adam's L2 weight_decay).
/// torch's default weight_decay of 0.01 is the default here too.
///
///   pare::AdamW opt{.lr = 1e-3f, .weight_decay = 0.05f};
struct AdamW {
  float lr = 1e-3f;
  float beta1 = 0.9f;
  float beta2 = 0.999f;
  float eps = 1e-8f;
  float weight_decay = 0.01f;

  /// @pre the same parameters, in the same order, on every call (moments are positional)
  void step(std::span<const Parameter> params) {
    detail::adam_step(state_, params, lr, beta1, beta2, eps, 0.0f, weight_decay, "AdamW::step");
  }

  [[nodiscard]] std::size_t steps() const noexcept { return state_.t; }
  void reset() noexcept { state_ = {}; }

  // Optimizer state; public only so that AdamW stays an aggregate. Not part of the API.
  detail::AdamState state_{};
};

static_assert(Optimizer<AdamW>);

}  // namespace pare

#ifndef PARE_COMPILED_LIB
#include "pare/nn/adam-inl.hpp"
#endif
