// SPDX-License-Identifier: Apache-2.0
// pare — Parameter: one trainable tensor and its gradient, as optimizers and visitors see them.
#pragma once

#include <span>

namespace pare {

/// A trainable tensor (flattened) and the gradient accumulated for it by `backward`. Both spans
/// point into the owning layer and have the same length; they stay valid while the layer lives
/// and is not moved.
struct Parameter {
  std::span<float> value;
  std::span<float> grad;
};

}  // namespace pare
