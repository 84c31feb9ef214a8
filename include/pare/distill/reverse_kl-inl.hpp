// SPDX-License-Identifier: Apache-2.0
// pare — definitions for distill/reverse_kl.hpp: compiled once into pare::compiled, or included by
// the header (core/config.hpp explains the two modes).
#pragma once

#include "pare/core/config.hpp"
#include "pare/distill/concepts.hpp"
#include "pare/distill/detail/divergence_loss.hpp"
#include "pare/distill/reverse_kl.hpp"
#include "pare/distill/row_kernels.hpp"

namespace pare {

PARE_INLINE float ReverseKL::accumulate(const DistillBatch& b, float scale,
                                        const DistillGrad& g) const {
  return detail::divergence_loss<kernels::Divergence::reverse_kl>(b, temperature, scale, g,
                                                                  "ReverseKL");
}

}  // namespace pare
