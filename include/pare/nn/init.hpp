// SPDX-License-Identifier: Apache-2.0
// pare — seeded weight initializers (same numbers on every platform: they draw from pare::Rng).
//
// When to use which:
// - `kaiming_uniform(w, fan_in, rng, a)` — PyTorch's `kaiming_uniform_`; with a = √5 (the default)
//   it is torch.nn.Linear's default weight init, U(-1/√fan_in, 1/√fan_in);
//   with a = 0 it is He-uniform for ReLU networks, U(-√(6/fan_in), √(6/fan_in)).
// - `uniform(b, bound, rng)` — U(-bound, bound); torch.nn.Linear's bias init uses 1/√fan_in.
#pragma once

#include <cmath>
#include <cstddef>
#include <span>

#include "pare/core/config.hpp"
#include "pare/core/random.hpp"

namespace pare {

/// Fills `values` with U(-bound, bound).
void uniform(std::span<float> values, float bound, Rng& rng) noexcept;

/// Kaiming (He) uniform init as torch.nn.init.kaiming_uniform_(mode="fan_in",
/// nonlinearity="leaky_relu"): bound = gain · √(3 / fan_in) with gain = √(2 / (1 + a²)).
/// @pre fan_in > 0
void kaiming_uniform(std::span<float> values, std::size_t fan_in, Rng& rng,
                     float a = std::sqrt(5.0f));

}  // namespace pare

#ifndef PARE_COMPILED_LIB
#include "pare/nn/init-inl.hpp"
#endif
