// SPDX-License-Identifier: Apache-2.0
// pare::compiled — GPTQ's plan (damping, act-order, the factor of H⁻¹) and its NF4/LUT path.
#include "pare/quant/gptq-inl.hpp"
