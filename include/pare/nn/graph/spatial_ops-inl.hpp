// SPDX-License-Identifier: Apache-2.0
// pare — definitions for nn/graph/spatial_ops.hpp: compiled once into pare::compiled, or included
// by the header (core/config.hpp explains the two modes).
#pragma once

#include <cstdint>

#include "pare/nn/graph/spatial_ops.hpp"

namespace pare::graph {

PARE_INLINE OpFn make_spatial_op(const GraphNode& node, std::int64_t opset) {
  (void)node;
  (void)opset;
  return {};
}

}  // namespace pare::graph
