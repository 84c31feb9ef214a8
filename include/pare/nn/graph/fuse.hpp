// SPDX-License-Identifier: Apache-2.0
// pare — Gelu fusion: the five-node pattern exporters write for exact GELU,
//
//     d = Div(x, sqrt 2);  e = Erf(d);  p = Add(e, 1);  m = Mul(x, p);  y = Mul(m, 0.5)
//
// (operands of Add and Mul in either order; the constants as initializers or Constant nodes)
// becomes one Gelu node, which reads x once instead of five times. Each of the unfused ops is
// also supported on its own, so a pattern that does not match exactly still runs.
#pragma once

#include <cstddef>

#include "pare/core/config.hpp"
#include "pare/nn/graph/graph.hpp"

namespace pare::graph {

/// Replaces every exact-GELU pattern whose intermediates feed nothing else; returns how many.
std::size_t fuse_gelu(Graph& g);

}  // namespace pare::graph

#ifndef PARE_COMPILED_LIB
#include "pare/nn/graph/fuse-inl.hpp"
#endif
