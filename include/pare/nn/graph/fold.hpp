// SPDX-License-Identifier: Apache-2.0
// pare — BatchNormalization folding: an inference-mode BN whose input comes from a Conv (or a
// Gemm) that feeds nothing else is merged into that producer's weights and bias, so the BN
// costs nothing at run time.
//
//   s = scale / sqrt(var + eps);  W'[c, ...] = W[c, ...] * s[c];  b'[c] = (b[c] - mean[c]) * s[c] +
//   bias[c]
//
// Folded weights are new constants (`<weight>:bn_folded`), so a weight shared with another node
// is never changed under it. A BN that does not fit (non-constant parameters, a producer with
// other consumers, a graph output in between) stays and is evaluated.
#pragma once

#include <cstddef>

#include "pare/core/config.hpp"
#include "pare/nn/graph/graph.hpp"

namespace pare::graph {

/// Folds every foldable BatchNormalization into its Conv/Gemm producer; returns how many.
std::size_t fold_batch_norm(Graph& g);

/// Removes every Identity node whose input is a constant (exporters write one per weight that
/// two layers share, or that BN folding left behind) by pointing its readers at the constant
/// itself, so that they see a stored weight they can pack at load instead of a value copied on
/// every run. An Identity whose output is a graph output stays. Returns how many were removed.
std::size_t fold_constant_identities(Graph& g);

}  // namespace pare::graph

#ifndef PARE_COMPILED_LIB
#include "pare/nn/graph/fold-inl.hpp"
#endif
