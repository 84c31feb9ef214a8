// SPDX-License-Identifier: Apache-2.0
// pare — umbrella header: everything a user needs to compress and run a model.
#pragma once

#include "pare/core/dtype.hpp"
#include "pare/core/eigen.hpp"
#include "pare/core/error.hpp"
#include "pare/core/random.hpp"
#include "pare/core/shape.hpp"
#include "pare/core/tensor.hpp"
#include "pare/io.hpp"
#include "pare/kernels/blas1.hpp"
#include "pare/kernels/gemv.hpp"
#include "pare/kernels/softmax.hpp"
#include "pare/nn.hpp"
#include "pare/quant.hpp"
