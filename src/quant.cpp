// SPDX-License-Identifier: Apache-2.0
// pare::compiled — quant: activation quantization entry points, lookup-table packing and double
// quantization, SmoothQuant and AWQ's non-template parts, fake-quantization constructors, the
// percentile and histogram observers, mixed precision, GPTQ's plan (damping, act-order, the
// factor of H⁻¹) and its NF4/LUT path, and the override patterns (quant/detail/name_regex.hpp).
#include "pare/quant/awq-inl.hpp"
#include "pare/quant/detail/histogram-inl.hpp"
#include "pare/quant/detail/name_regex-inl.hpp"
#include "pare/quant/double_quant-inl.hpp"
#include "pare/quant/dynamic-inl.hpp"
#include "pare/quant/fake_quant-inl.hpp"
#include "pare/quant/ggml_blocks-inl.hpp"
#include "pare/quant/gptq-inl.hpp"
#include "pare/quant/histogram_observer-inl.hpp"
#include "pare/quant/lut4-inl.hpp"
#include "pare/quant/mixed_precision-inl.hpp"
#include "pare/quant/observer-inl.hpp"
#include "pare/quant/smoothquant-inl.hpp"
