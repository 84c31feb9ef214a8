// SPDX-License-Identifier: Apache-2.0
// pare — the recurrent graph ops LSTM, GRU and RNN: forward, reverse or bidirectional, with
// ONNX's optional bias, sequence_lens, initial states and peepholes, layout 0 and 1, clip, and
// GRU's linear_before_reset. The input projection of every step is one GEMM up front; each step
// is one GEMM of the hidden state with the recurrence weights, then the gate math in float.
#pragma once

#include "pare/core/config.hpp"
#include "pare/nn/graph/attributes.hpp"
#include "pare/nn/graph/op.hpp"

namespace pare::graph {

enum class RecurrentKind { lstm, gru, rnn };

/// LSTM, GRU or RNN. Activations may be given only as the defaults or from Sigmoid, Tanh and
/// Relu; others throw UnsupportedError naming the node.
[[nodiscard]] OpFn make_recurrent(RecurrentKind kind, const Attributes& attrs);

}  // namespace pare::graph

#ifndef PARE_COMPILED_LIB
#include "pare/nn/graph/spatial_rnn-inl.hpp"
#endif
