// SPDX-License-Identifier: Apache-2.0
// pare_isa — one object per x86-64 tier holding the AVX2 / AVX-512 instantiations of every kernel
// listed with PARE_DISPATCHED_KERNEL (simd/dispatch.hpp). CMake compiles this file twice:
// PARE_ISA_TIER=3 with -march=x86-64-v3 and PARE_ISA_TIER=4 with -march=x86-64-v4.
#if PARE_ISA_TIER == 3
#define PARE_ISA_TU xsimd::fma3<xsimd::avx2>
#elif PARE_ISA_TIER == 4
#define PARE_ISA_TU xsimd::avx512bw
#else
#error "src/isa/kernels.cpp: define PARE_ISA_TIER as 3 (x86-64-v3) or 4 (x86-64-v4)"
#endif

#include "pare/simd/arch.hpp"

static_assert(PARE_ISA_TU::supported(),
              "pare_isa: this object must be compiled with the flags of its tier (-march=x86-64-v3 "
              "or -march=x86-64-v4)");

// Every header with a PARE_DISPATCHED_KERNEL line.
#include "pare/distill/row_kernels.hpp"
#include "pare/kernels/blas1.hpp"
#include "pare/kernels/gemm.hpp"
#include "pare/kernels/gemv.hpp"
#include "pare/kernels/gemv_codes4.hpp"
#include "pare/kernels/gemv_int4.hpp"
#include "pare/kernels/gemv_lut4.hpp"
#include "pare/kernels/matmul_ggml.hpp"
#include "pare/kernels/packed_tiles.hpp"
#include "pare/kernels/softmax.hpp"
#include "pare/kernels/spmm.hpp"
#include "pare/kernels/spmv.hpp"
#include "pare/linalg/kernels.hpp"
#include "pare/nn/graph/unary_kernels.hpp"
#include "pare/quant/dynamic_kernels.hpp"
