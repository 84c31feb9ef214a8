// SPDX-License-Identifier: Apache-2.0
// pare — softmax cross-entropy on logits, with its gradient.
#pragma once

#include <cstdint>

#include "pare/core/config.hpp"
#include "pare/core/tensor.hpp"

namespace pare {

/// A loss value and its gradient wrt the logits.
struct LossAndGrad {
  float loss = 0;         ///< mean over the batch
  Tensor<float, 2> grad;  ///< dloss/dlogits, [N, C]
};

/// Mean cross-entropy of softmax(logits) against integer class labels, as
/// torch.nn.functional.cross_entropy(logits, labels) with reduction="mean".
/// Goes through log_softmax (max-subtracted), so logits of any magnitude give finite results.
/// The gradient is (softmax(logits) − onehot(labels)) / N.
/// @pre logits is [N, C] with N ≥ 1; labels has N entries, each in [0, C)
LossAndGrad softmax_cross_entropy(TensorView<const float, 2> logits,
                                  TensorView<const std::int32_t, 1> labels);

}  // namespace pare

#ifndef PARE_COMPILED_LIB
#include "pare/nn/loss-inl.hpp"
#endif
