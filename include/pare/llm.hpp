// SPDX-License-Identifier: Apache-2.0
// pare — language models: a llama-architecture decoder over pare's kernels, its loaders (GGUF,
// Hugging Face safetensors), sampling, generation and perplexity. Not part of pare.hpp: a
// program that runs a language model includes this header.
#pragma once

#include "pare/llm/config.hpp"
#include "pare/llm/generate.hpp"
#include "pare/llm/gptq_model.hpp"
#include "pare/llm/linear_weight.hpp"
#include "pare/llm/llama.hpp"
#include "pare/llm/load.hpp"
#include "pare/llm/quantize_checkpoint.hpp"
#include "pare/llm/sampler.hpp"
