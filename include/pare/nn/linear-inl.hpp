// SPDX-License-Identifier: Apache-2.0
// pare — definitions for nn/linear.hpp: compiled once into pare::compiled, or included by the
// header (core/config.hpp explains the two modes).
#pragma once

#include <cmath>
#include <cstddef>

#include "pare/core/error.hpp"
#include "pare/core/random.hpp"
#include "pare/core/tensor.hpp"
#include "pare/kernels/blas1.hpp"
#include "pare/kernels/gemm.hpp"
#include "pare/kernels/gemv.hpp"
#include "pare/nn/linear.hpp"

namespace pare {

PARE_INLINE Linear::Linear(std::size_t in_features, std::size_t out_features)
    : weight_({out_features, in_features}),
      bias_({out_features}),
      weight_grad_({out_features, in_features}),
      bias_grad_({out_features}) {
  PARE_CHECK(in_features > 0 && out_features > 0, ArgumentError,
             "Linear needs positive sizes, got in=", in_features, " out=", out_features);
}

PARE_INLINE Linear::Linear(std::size_t in_features, std::size_t out_features, Rng& rng)
    : Linear(in_features, out_features) {
  kaiming_uniform(weight_.span(), in_features, rng);
  uniform(bias_.span(), 1.0f / std::sqrt(static_cast<float>(in_features)), rng);
}

PARE_INLINE Tensor<float, 2> Linear::forward(TensorView<const float, 2> x) {
  Tensor<float, 2> y = infer(x);
  input_ = Tensor<float, 2>(x);
  return y;
}

PARE_INLINE Tensor<float, 2> Linear::backward(TensorView<const float, 2> grad_out) {
  PARE_CHECK(grad_out.extent(0) == input_.extent(0) && grad_out.extent(1) == out_features(),
             ShapeError, "Linear::backward: gradient ", to_string(grad_out.extents()),
             " does not match the last forward output [", input_.extent(0), ", ", out_features(),
             "]");
  // Three GEMMs' worth of work: dL/dx = g·W, dL/dW += gᵀ·x, dL/db += column sums of g.
  Tensor<float, 2> grad_in({grad_out.extent(0), in_features()});
  gemm(grad_out, weight_, grad_in.view());
  gemm_tn(grad_out, input_, weight_grad_.view(), 1.0f, 1.0f);
  for (std::size_t n = 0; n < grad_out.extent(0); ++n) axpy(1.0f, grad_out[n], bias_grad_.view());
  return grad_in;
}

PARE_INLINE Tensor<float, 2> Linear::infer(TensorView<const float, 2> x) const {
  PARE_CHECK(x.extent(1) == in_features(), ShapeError, "Linear(", in_features(), " -> ",
             out_features(), "): input ", to_string(x.extents()), " has the wrong width");
  Tensor<float, 2> y({x.extent(0), out_features()});
  if (x.extent(0) == 1) {
    infer(x[0], y.view()[0]);
    return y;
  }
  gemm_nt(x, weight_, y.view());
  for (std::size_t n = 0; n < x.extent(0); ++n) axpy(1.0f, bias_, y.view()[n]);
  return y;
}

PARE_INLINE void Linear::infer(TensorView<const float, 1> x, TensorView<float, 1> y) const {
  gemv(weight_, x, y);
  axpy(1.0f, bias_, y);
}

}  // namespace pare
