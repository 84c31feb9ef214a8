// SPDX-License-Identifier: Apache-2.0
// pare — stochastic gradient descent with momentum, as torch.optim.SGD.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "pare/core/error.hpp"
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
  void step(std::span<const Parameter> params) {
    auto& buf = state_.buffers;
    auto& steps = state_.steps;
    if (momentum != 0.0f && buf.empty()) {
      buf.resize(params.size());
      for (std::size_t i = 0; i < params.size(); ++i) buf[i].resize(params[i].value.size());
    }
    PARE_CHECK(momentum == 0.0f || buf.size() == params.size(), ArgumentError, "Sgd::step: got ",
               params.size(), " parameters, the momentum state has ", buf.size());
    for (std::size_t i = 0; i < params.size(); ++i) {
      const auto& p = params[i];
      PARE_CHECK(p.value.size() == p.grad.size(), ArgumentError, "Sgd::step: parameter ", i,
                 " has ", p.value.size(), " values but ", p.grad.size(), " gradients");
      if (momentum != 0.0f)
        PARE_CHECK(buf[i].size() == p.value.size(), ArgumentError, "Sgd::step: parameter ", i,
                   " has ", p.value.size(), " values, its momentum buffer ", buf[i].size());
      for (std::size_t k = 0; k < p.value.size(); ++k) {
        float g = p.grad[k];
        if (weight_decay != 0.0f) g += weight_decay * p.value[k];
        if (momentum != 0.0f) {
          float& b = buf[i][k];
          b = steps == 0 ? g : momentum * b + g;
          g = b;
        }
        p.value[k] -= lr * g;
      }
    }
    ++steps;
  }

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
