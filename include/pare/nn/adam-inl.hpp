// SPDX-License-Identifier: Apache-2.0
// pare — definitions for nn/adam.hpp: compiled once into pare::compiled, or included by the
// header (core/config.hpp explains the two modes).
#pragma once

#include <cmath>
#include <cstddef>
#include <span>

#include "pare/core/error.hpp"
#include "pare/core/parallel.hpp"
#include "pare/nn/adam.hpp"

namespace pare {

PARE_INLINE void detail::adam_step(AdamState& state, std::span<const Parameter> params, float lr,
                                   float beta1, float beta2, float eps, float l2, float decoupled,
                                   const char* who) {
  auto& ms = state.m;
  auto& vs = state.v;
  auto& t = state.t;
  if (ms.empty()) {
    ms.resize(params.size());
    vs.resize(params.size());
    for (std::size_t i = 0; i < params.size(); ++i) {
      ms[i].assign(params[i].value.size(), 0.0f);
      vs[i].assign(params[i].value.size(), 0.0f);
    }
  }
  PARE_CHECK(ms.size() == params.size(), ArgumentError, who, ": got ", params.size(),
             " parameters, the optimizer state has ", ms.size());
  ++t;
  // PyTorch computes the bias corrections in double precision (Python floats).
  const double bc1 = 1.0 - std::pow(static_cast<double>(beta1), static_cast<double>(t));
  const double bc2 = 1.0 - std::pow(static_cast<double>(beta2), static_cast<double>(t));
  const auto step_size = static_cast<float>(static_cast<double>(lr) / bc1);
  const auto bc2_sqrt = static_cast<float>(std::sqrt(bc2));
  const float shrink = 1.0f - lr * decoupled;
  for (std::size_t i = 0; i < params.size(); ++i) {
    const auto& p = params[i];
    PARE_CHECK(p.value.size() == p.grad.size() && p.value.size() == ms[i].size(), ArgumentError,
               who, ": parameter ", i, " has ", p.value.size(), " values, ", p.grad.size(),
               " gradients and ", ms[i].size(), " moments");
    // Element-wise: a big tensor is shared out among pare's threads, every element updated
    // exactly as on one thread.
    float* mi = ms[i].data();
    float* vi = vs[i].data();
    parallel_for(0, p.value.size(), std::size_t{1} << 15, [&](std::size_t lo, std::size_t hi) {
      for (std::size_t k = lo; k < hi; ++k) {
        float g = p.grad[k];
        if (l2 != 0.0f) g += l2 * p.value[k];
        if (decoupled != 0.0f) p.value[k] *= shrink;
        float& m = mi[k];
        float& v = vi[k];
        m = beta1 * m + (1.0f - beta1) * g;
        v = beta2 * v + (1.0f - beta2) * g * g;
        p.value[k] -= step_size * m / (std::sqrt(v) / bc2_sqrt + eps);
      }
    });
  }
}

}  // namespace pare
