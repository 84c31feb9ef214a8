// SPDX-License-Identifier: Apache-2.0
// pare — stochastic gradient descent with momentum, as torch.optim.SGD.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "pare/core/config.hpp"
#include "pare/nn/concepts.hpp"
#include "pare/nn/parameter.hpp"

namespace pare {

/// SGD with optional momentum and L2 weight decay, step for step what torch.optim.SGD does
/// (dampening 0, nesterov off):
///   g = grad + weight_decay · p;   b = g on the first step, else momentum · b + g;   p -= lr · b
///
///   pare::Sgd opt{.lr = 0.1f, .momentum = 0.9f};
///   opt.step(model.parameters());
struct Sgd {
  float lr = 0.01f;
  float momentum = 0.0f;
  float weight_decay = 0.0f;

  /// @pre the same parameters, in the same order, on every call (momentum buffers are positional)
  void step(std::span<const Parameter> params);

  /// Forgets the momentum buffers (the next step starts afresh).
  void reset() noexcept { state_ = {}; }

  // Optimizer state. Public only so that Sgd stays an aggregate (designated initializers);
  // not part of the API.
  struct State {
    std::vector<std::vector<float>> buffers;
    std::size_t steps = 0;
  } state_{};
};

static_assert(Optimizer<Sgd>);

}  // namespace pare

#ifndef PARE_COMPILED_LIB
#include "pare/nn/sgd-inl.hpp"
#endif
