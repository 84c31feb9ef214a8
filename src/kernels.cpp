// SPDX-License-Identifier: Apache-2.0
// pare::compiled — kernel entry points and their checked wrappers (kernels/).
#include "pare/kernels/blas1-inl.hpp"
#include "pare/kernels/conv2d-inl.hpp"
#include "pare/kernels/gemm-inl.hpp"
#include "pare/kernels/gemm_int8-inl.hpp"
#include "pare/kernels/gemv-inl.hpp"
#include "pare/kernels/gemv_codes4-inl.hpp"
#include "pare/kernels/gemv_lut4-inl.hpp"
#include "pare/kernels/kernel_layout-inl.hpp"
#include "pare/kernels/pool2d-inl.hpp"
#include "pare/kernels/reference-inl.hpp"
#include "pare/kernels/softmax-inl.hpp"
#include "pare/kernels/spmv-inl.hpp"
