// SPDX-License-Identifier: Apache-2.0
// pare::compiled — the GGUF tokenizer (llm/tokenizer.hpp) and its Unicode helpers.
#include "pare/llm/detail/unicode-inl.hpp"
#include "pare/llm/tokenizer-inl.hpp"
