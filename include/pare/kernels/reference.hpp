// SPDX-License-Identifier: Apache-2.0
// pare — scalar references of the f32 kernels: the test oracle and the fallback for strided views.
//
// Written for clarity, not speed: sums accumulate in double (a product of two floats is exact in
// double), exp/log are evaluated in double, and each result is rounded to float once. They take
// views of any stride and check nothing (@pre: the shapes agree, as the public wrappers check).
#pragma once

#include <cstddef>

#include "pare/core/tensor.hpp"

namespace pare::kernels::reference {

/// Sum of a[i] * b[i], accumulated in double.
[[nodiscard]] float dot(TensorView<const float, 1> a, TensorView<const float, 1> b) noexcept;

/// y += alpha * x, each element computed in double and rounded once.
void axpy(float alpha, TensorView<const float, 1> x, TensorView<float, 1> y) noexcept;

/// y = W x, each row accumulated in double. @pre y does not alias W or x.
void gemv(TensorView<const float, 2> w, TensorView<const float, 1> x,
          TensorView<float, 1> y) noexcept;

/// y = exp(x - max) / sum(exp(x - max)). -inf entries give 0; an all -inf (or any +inf / NaN)
/// input gives NaN, as in PyTorch. @pre y is x or does not overlap it.
void softmax(TensorView<const float, 1> x, TensorView<float, 1> y) noexcept;

/// y = (x - max) - log(sum(exp(x - max))). -inf entries give -inf. @pre as for softmax.
void log_softmax(TensorView<const float, 1> x, TensorView<float, 1> y) noexcept;

/// Row-wise softmax of a matrix.
void softmax(TensorView<const float, 2> x, TensorView<float, 2> y) noexcept;

/// Row-wise log-softmax of a matrix.
void log_softmax(TensorView<const float, 2> x, TensorView<float, 2> y) noexcept;

}  // namespace pare::kernels::reference

#ifndef PARE_COMPILED_LIB
#include "pare/kernels/reference-inl.hpp"
#endif
