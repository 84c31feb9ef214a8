// SPDX-License-Identifier: Apache-2.0
// pare::compiled — language models (llm/): the decoder, its weight formats, loaders, sampling
// and generation.
#include "pare/llm/config-inl.hpp"
#include "pare/llm/generate-inl.hpp"
#include "pare/llm/gptq_model-inl.hpp"
#include "pare/llm/linear_weight-inl.hpp"
#include "pare/llm/llama-inl.hpp"
#include "pare/llm/load-inl.hpp"
#include "pare/llm/quantize_checkpoint-inl.hpp"
#include "pare/llm/sampler-inl.hpp"
