// SPDX-License-Identifier: Apache-2.0
// pare::compiled — the spatial family of graph ops (nn/graph/spatial_ops.hpp), in a file of its own
// so that it builds in parallel with the rest of the runtime graph.
#include "pare/nn/graph/spatial_conv-inl.hpp"
#include "pare/nn/graph/spatial_ops-inl.hpp"
#include "pare/nn/graph/spatial_resize-inl.hpp"
#include "pare/nn/graph/spatial_rnn-inl.hpp"
