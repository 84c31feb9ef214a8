// SPDX-License-Identifier: Apache-2.0
// pare — Adam, as torch.optim.Adam (amsgrad off).
#pragma once

#include <cmath>
#include <cstddef>
#include <span>
#include <vector>

#include "pare/core/error.hpp"
#include "pare/nn/concepts.hpp"
#include "pare/nn/parameter.hpp"

namespace pare {

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
    auto& ms = state_.m;
    auto& vs = state_.v;
    auto& t = state_.t;
    if (ms.empty()) {
      ms.resize(params.size());
      vs.resize(params.size());
      for (std::size_t i = 0; i < params.size(); ++i) {
        ms[i].assign(params[i].value.size(), 0.0f);
        vs[i].assign(params[i].value.size(), 0.0f);
      }
    }
    PARE_CHECK(ms.size() == params.size(), ArgumentError, "Adam::step: got ", params.size(),
               " parameters, the optimizer state has ", ms.size());
    ++t;
    // PyTorch computes the bias corrections in double precision (Python floats).
    const double bc1 = 1.0 - std::pow(static_cast<double>(beta1), static_cast<double>(t));
    const double bc2 = 1.0 - std::pow(static_cast<double>(beta2), static_cast<double>(t));
    const auto step_size = static_cast<float>(static_cast<double>(lr) / bc1);
    const auto bc2_sqrt = static_cast<float>(std::sqrt(bc2));
    for (std::size_t i = 0; i < params.size(); ++i) {
      const auto& p = params[i];
      PARE_CHECK(p.value.size() == p.grad.size() && p.value.size() == ms[i].size(), ArgumentError,
                 "Adam::step: parameter ", i, " has ", p.value.size(), " values, ", p.grad.size(),
                 " gradients and ", ms[i].size(), " moments");
      for (std::size_t k = 0; k < p.value.size(); ++k) {
        float g = p.grad[k];
        if (weight_decay != 0.0f) g += weight_decay * p.value[k];
        float& m = ms[i][k];
        float& v = vs[i][k];
        m = beta1 * m + (1.0f - beta1) * g;
        v = beta2 * v + (1.0f - beta2) * g * g;
        p.value[k] -= step_size * m / (std::sqrt(v) / bc2_sqrt + eps);
      }
    }
  }

  /// Number of steps taken so far.
  [[nodiscard]] std::size_t steps() const noexcept { return state_.t; }

  /// Forgets the moments (the next step is step 1 again).
  void reset() noexcept { state_ = {}; }

  // Optimizer state. Public only so that Adam stays an aggregate (designated initializers);
  // not part of the API.
  struct State {
    std::vector<std::vector<float>> m, v;
    std::size_t t = 0;
  } state_{};
};

static_assert(Optimizer<Adam>);

}  // namespace pare
