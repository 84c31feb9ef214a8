// SPDX-License-Identifier: Apache-2.0
// pare::compiled — quant: GPTQ's plan (damping, act-order, the factor of H⁻¹) and its NF4/LUT
// path; override patterns of mixed precision (quant/detail/name_regex.hpp).
#include "pare/quant/detail/name_regex-inl.hpp"
#include "pare/quant/gptq-inl.hpp"
