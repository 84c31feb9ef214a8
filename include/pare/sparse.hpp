// SPDX-License-Identifier: Apache-2.0
// pare — sparse weight formats (CSR, int8 CSR, bitmap, BSR, packed N:M), their products with dense
// vectors and matrices, and the SparseLinear layer.
#pragma once

#include "pare/kernels/spmm.hpp"
#include "pare/kernels/spmv.hpp"
#include "pare/nn/sparse_linear.hpp"
#include "pare/sparse/bitmap.hpp"
#include "pare/sparse/bsr.hpp"
#include "pare/sparse/concepts.hpp"
#include "pare/sparse/csr.hpp"
#include "pare/sparse/nm.hpp"
