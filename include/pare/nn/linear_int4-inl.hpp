// SPDX-License-Identifier: Apache-2.0
// pare — definitions for nn/linear_int4.hpp: compiled once into pare::compiled, or included by the
// header (core/config.hpp explains the two modes).
#pragma once

#include <cstddef>
#include <utility>

#include "pare/core/error.hpp"
#include "pare/kernels/blas1.hpp"
#include "pare/kernels/gemv_lut4.hpp"
#include "pare/nn/linear_int4.hpp"
#include "pare/quant/gptq.hpp"
#include "pare/quant/lut4.hpp"

namespace pare {

PARE_INLINE Lut4Linear::Lut4Linear(Lut4Matrix weight, Tensor<float, 1> bias)
    : weight_(std::move(weight)), bias_(std::move(bias)) {
  PARE_CHECK(bias_.extent(0) == weight_.rows(), ShapeError, "Lut4Linear: bias of ", bias_.extent(0),
             " for ", weight_.rows(), " outputs");
}

PARE_INLINE Lut4Linear Lut4Linear::from(const Linear& fc, std::size_t group,
                                        const Lut4Codebook& levels) {
  return {pack_lut4(fc.weight().view(), group, levels), fc.bias()};
}

PARE_INLINE Lut4Linear Lut4Linear::from_gptq(const Linear& fc, const LayerHessian& h,
                                             std::size_t group, const Lut4Codebook& levels,
                                             const GptqOptions& opt) {
  return {gptq_lut4(fc.weight().view(), h, group, levels, opt), fc.bias()};
}

PARE_INLINE void Lut4Linear::infer(TensorView<const float, 1> x, TensorView<float, 1> y) const {
  gemv(weight_, x, y);
  axpy(1.0f, bias_.view(), y);
}

}  // namespace pare
