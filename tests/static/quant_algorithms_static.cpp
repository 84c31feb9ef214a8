// SPDX-License-Identifier: Apache-2.0
// Contracts of the quantization algorithms' types hold (passes by compiling).
#include "pare/nn/concepts.hpp"
#include "pare/nn/linear_int4.hpp"
#include "pare/nn/qat_linear.hpp"
#include "pare/quant/lut4.hpp"
#include "pare/quant/nf4.hpp"

static_assert(pare::LookupFormat<pare::Nf4>);
static_assert(pare::LookupFormat<pare::Fp4E2M1>);
static_assert(pare::Layer<pare::Int4Linear<pare::Q4G32>>);
static_assert(pare::Layer<pare::Int4Linear<pare::Q4G16>>);
static_assert(pare::Layer<pare::Lut4Linear>);
static_assert(pare::Layer<pare::QatLinear<pare::Int<4>>>);
static_assert(pare::Layer<pare::QatLinear<pare::Int<8>>>);
