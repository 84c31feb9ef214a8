// SPDX-License-Identifier: Apache-2.0
// pare — AttentionTransfer (Zagoruyko & Komodakis 2017): match normalized spatial attention maps.
#pragma once

#include <cstddef>

#include "pare/distill/concepts.hpp"

namespace pare {

/// Attention transfer: from a convolutional feature map f [C, H·W] (one row per sample, channel
/// major, i.e. a [N, C, H, W] tensor flattened per sample) take the attention map
/// a = mean_c |f_c|^p over the H·W positions, normalize it, q = a / max(‖a‖₂, 1e-12), and average
/// (q_s − q_t)² over samples and positions — the reference code's
/// `(at(f_s) - at(f_t)).pow(2).mean()` with `at(x) = F.normalize(x.pow(p).mean(1).view(N, -1))`.
/// (The paper writes Σ_c; the mean differs by the factor C, which the normalization removes.)
/// Student and teacher may have different channel counts but need the same `spatial` = H·W.
/// The original work weights this term by β/2 = 500; compose: `500 * AttentionTransfer{...}`.
struct AttentionTransfer {
  std::size_t spatial = 0;  ///< H·W of both feature maps; must be set
  float p = 2.0f;           ///< exponent of |f|; the paper uses 2

  float accumulate(const DistillBatch& b, float scale, const DistillGrad& g) const;
};

static_assert(DistillLoss<AttentionTransfer>);

}  // namespace pare

#ifndef PARE_COMPILED_LIB
#include "pare/distill/attention_transfer-inl.hpp"
#endif
