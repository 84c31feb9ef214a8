// SPDX-License-Identifier: Apache-2.0
// pare — which nodes after a Conv fold into it when the model compiles:
//
//     y = Conv(x, w, b);  [s = Add(y, r);]  [a = Relu | Clip | HardSwish | HardSigmoid | Sigmoid]
//
// becomes one convolution whose kernel adds the bias, the residual r and applies the activation
// to each register tile before storing it (kernels/conv2d_packed.hpp), so the output is written
// once instead of three times. A node is folded in only when the value before it feeds nothing
// else and is not a graph output, and r is computed before the Conv runs. The graph itself is
// not rewritten — compression passes and save_model still see standard ONNX nodes — only the
// compiled steps are (Model::compile).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "pare/core/config.hpp"
#include "pare/kernels/conv2d_packed.hpp"
#include "pare/nn/graph/graph.hpp"

namespace pare::graph {

/// A Conv node and what follows it into its kernel.
struct ConvChain {
  std::size_t conv = 0;               ///< the Conv's node index
  std::vector<std::size_t> absorbed;  ///< node indices folded into it, in order
  std::string residual;               ///< the value an absorbed Add adds, or ""
  Epilogue epilogue;                  ///< the absorbed activation
  std::vector<std::string> outputs;   ///< the outputs of the chain's last node
};

/// The activation `n` computes, when it is one a fused kernel applies (Relu, Clip with constant
/// bounds, HardSwish, HardSigmoid, Sigmoid, exact Gelu); false otherwise.
[[nodiscard]] bool fusable_activation(const GraphNode& n, const Graph& g, Epilogue& out);

/// The fusable chains of `g`, whose nodes are in execution order.
[[nodiscard]] std::vector<ConvChain> plan_conv_fusion(const Graph& g);

/// The same for `MatMul(x, W) → [Add(·, bias)] → [activation]` with W a stored 2-D weight and
/// bias a stored [N] (or [1, N]) vector — a transformer's Linear layers as torch exports them:
/// the bias becomes the product's starting value (ConvChain::residual names it) and the
/// activation is applied while the output is still in cache.
[[nodiscard]] std::vector<ConvChain> plan_linear_fusion(const Graph& g);

}  // namespace pare::graph

#ifndef PARE_COMPILED_LIB
#include "pare/nn/graph/conv_fusion-inl.hpp"
#endif
