// SPDX-License-Identifier: Apache-2.0
// pare — sparse weight formats (CSR, int8 CSR, bitmap, BSR, packed N:M), their products with dense
// vectors and matrices, the SparseLinear layer, and prune_and_deploy (a Pruner straight to it).
#pragma once

#include "pare/kernels/spmm.hpp"
#include "pare/kernels/spmv.hpp"
#include "pare/nn/prune_deploy.hpp"
#include "pare/nn/sparse_linear.hpp"
#include "pare/sparse/bitmap.hpp"
#include "pare/sparse/bsr.hpp"
#include "pare/sparse/concepts.hpp"
#include "pare/sparse/csr.hpp"
#include "pare/sparse/deploy_format.hpp"
#include "pare/sparse/nm.hpp"
