// SPDX-License-Identifier: Apache-2.0
// pare — definitions for distill/jensen_shannon.hpp: compiled once into pare::compiled, or included
// by the header (core/config.hpp explains the two modes).
#pragma once

#include "pare/core/config.hpp"
#include "pare/distill/concepts.hpp"
#include "pare/distill/detail/divergence_loss.hpp"
#include "pare/distill/jensen_shannon.hpp"
#include "pare/distill/row_kernels.hpp"

namespace pare {

PARE_INLINE float JensenShannon::accumulate(const DistillBatch& b, float scale,
                                            const DistillGrad& g) const {
  return detail::divergence_loss<kernels::Divergence::jensen_shannon>(b, temperature, scale, g,
                                                                      "JensenShannon");
}

}  // namespace pare
