// SPDX-License-Identifier: Apache-2.0
// pare — definitions for nn/graph/spatial_ops.hpp: compiled once into pare::compiled, or included
// by the header (core/config.hpp explains the two modes).
#pragma once

#include <cstdint>
#include <string>

#include "pare/nn/graph/pool.hpp"
#include "pare/nn/graph/spatial_conv.hpp"
#include "pare/nn/graph/spatial_ops.hpp"
#include "pare/nn/graph/spatial_resize.hpp"
#include "pare/nn/graph/spatial_rnn.hpp"

namespace pare::graph {

PARE_INLINE OpFn make_spatial_op(const GraphNode& node, std::int64_t opset) {
  const std::string& t = node.op_type;
  const Attributes& a = node.attrs;
  if (t == "ConvTranspose") return make_conv_transpose(a);
  if (t == "Resize") return make_resize(a, opset);
  if (t == "Upsample") return make_upsample(a);
  if (t == "LpPool") return make_pool(PoolKind::lp, a);
  if (t == "GlobalMaxPool") return make_global_pool(PoolKind::max, a);
  if (t == "GlobalLpPool") return make_global_pool(PoolKind::lp, a);
  if (t == "LSTM") return make_recurrent(RecurrentKind::lstm, a);
  if (t == "GRU") return make_recurrent(RecurrentKind::gru, a);
  if (t == "RNN") return make_recurrent(RecurrentKind::rnn, a);
  return {};
}

}  // namespace pare::graph
