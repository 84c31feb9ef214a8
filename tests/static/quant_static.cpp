// SPDX-License-Identifier: Apache-2.0
// Passes by compiling: the built-in quantization policies satisfy their concepts.
#include "pare/quant.hpp"

static_assert(pare::QuantFormat<pare::Int<8>> && pare::QuantFormat<pare::UInt<4>>);
static_assert(pare::Int<4>::qmin == -8 && pare::Int<4>::qmax == 7);
static_assert(pare::UInt<4>::qmin == 0 && pare::UInt<4>::qmax == 15);
static_assert(pare::codes_per_byte<pare::Int<4>> == 2 && pare::codes_per_byte<pare::Int<2>> == 4);
static_assert(pare::codes_per_byte<pare::Int<8>> == 1 && pare::codes_per_byte<pare::Int<3>> == 1);
static_assert(pare::QuantScheme<pare::Symmetric> && pare::QuantScheme<pare::Affine>);
static_assert(pare::scheme_is_symmetric<pare::Symmetric> &&
              !pare::scheme_is_symmetric<pare::Affine>);
static_assert(pare::Granularity<pare::PerTensor> && pare::Granularity<pare::PerGroup<32>>);
static_assert(pare::Observer<pare::MinMax> && pare::Observer<pare::MovingAverageMinMax>);
static_assert(!pare::QuantFormat<float>);
static_assert(!pare::Observer<int>);
static_assert(pare::Observer<pare::Percentile> && pare::Observer<pare::Histogram> &&
              pare::Observer<pare::Entropy> && pare::Observer<pare::MseSearch>);
// Grid-aware observers pick their range for the quantizer's grid; MinMax has one answer.
static_assert(pare::GridAwareObserver<pare::Histogram, pare::Affine> &&
              pare::GridAwareObserver<pare::Entropy, pare::Symmetric> &&
              pare::GridAwareObserver<pare::MseSearch, pare::Symmetric> &&
              pare::GridAwareObserver<pare::MseSearch, pare::Affine>);
static_assert(!pare::GridAwareObserver<pare::MinMax, pare::Symmetric> &&
              !pare::GridAwareObserver<pare::Percentile, pare::Affine>);
// Every observer is a valid Quantizer argument.
static_assert(
    sizeof(pare::Quantizer<pare::Int<4>, pare::Symmetric, pare::PerGroup<32>, pare::MseSearch>) >
    0);
static_assert(
    sizeof(pare::Quantizer<pare::UInt<8>, pare::Affine, pare::PerTensor, pare::Histogram>) > 0);
