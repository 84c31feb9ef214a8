// SPDX-License-Identifier: Apache-2.0
// pare::compiled — dense double-precision linear algebra (linalg/dense_f64.hpp) and LayerHessian.
#include "pare/linalg/dense_f64-inl.hpp"
#include "pare/linalg/layer_hessian-inl.hpp"
