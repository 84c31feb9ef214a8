// SPDX-License-Identifier: Apache-2.0
// pare — definitions for nn/sgd.hpp: compiled once into pare::compiled, or included by the
// header (core/config.hpp explains the two modes).
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "pare/core/error.hpp"
#include "pare/core/parallel.hpp"
#include "pare/nn/sgd.hpp"

namespace pare {

PARE_INLINE void Sgd::step(std::span<const Parameter> params) {
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
    PARE_CHECK(p.value.size() == p.grad.size(), ArgumentError, "Sgd::step: parameter ", i, " has ",
               p.value.size(), " values but ", p.grad.size(), " gradients");
    if (momentum != 0.0f)
      PARE_CHECK(buf[i].size() == p.value.size(), ArgumentError, "Sgd::step: parameter ", i,
                 " has ", p.value.size(), " values, its momentum buffer ", buf[i].size());
    // Element-wise: a big tensor is shared out among pare's threads, every element updated
    // exactly as on one thread.
    float* bi = momentum != 0.0f ? buf[i].data() : nullptr;
    parallel_for(0, p.value.size(), std::size_t{1} << 16, [&](std::size_t lo, std::size_t hi) {
      for (std::size_t k = lo; k < hi; ++k) {
        float g = p.grad[k];
        if (weight_decay != 0.0f) g += weight_decay * p.value[k];
        if (bi != nullptr) {
          float& b = bi[k];
          b = steps == 0 ? g : momentum * b + g;
          g = b;
        }
        p.value[k] -= lr * g;
      }
    });
  }
  ++steps;
}

}  // namespace pare
