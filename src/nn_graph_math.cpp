// SPDX-License-Identifier: Apache-2.0
// pare::compiled — the math family of graph ops (nn/graph/math_ops.hpp), in a file of its own
// so that it builds in parallel with the rest of the runtime graph.
#include "pare/nn/graph/math_ops-inl.hpp"
