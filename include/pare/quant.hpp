// SPDX-License-Identifier: Apache-2.0
// pare — quantization umbrella header.
#pragma once

#include "pare/quant/awq.hpp"
#include "pare/quant/concepts.hpp"
#include "pare/quant/double_quant.hpp"
#include "pare/quant/dynamic.hpp"
#include "pare/quant/fake_quant.hpp"
#include "pare/quant/float_format.hpp"
#include "pare/quant/format.hpp"
#include "pare/quant/gptq.hpp"
#include "pare/quant/granularity.hpp"
#include "pare/quant/histogram_observer.hpp"
#include "pare/quant/int4_block.hpp"
#include "pare/quant/lut4.hpp"
#include "pare/quant/mixed_precision.hpp"
#include "pare/quant/nf4.hpp"
#include "pare/quant/observer.hpp"
#include "pare/quant/quantized_tensor.hpp"
#include "pare/quant/quantizer.hpp"
#include "pare/quant/scheme.hpp"
#include "pare/quant/search_observer.hpp"
#include "pare/quant/smoothquant.hpp"
