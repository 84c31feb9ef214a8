// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cmath>

#include "pare/core/config.hpp"
#include "pare/core/error.hpp"
#include "pare/llm/config.hpp"

namespace pare::llm {

PARE_INLINE void LlamaConfig::validate() const {
  PARE_CHECK(vocab_size > 0 && vocab_size <= (std::size_t{1} << 22), ArgumentError,
             "llama config: vocab_size ", vocab_size, " is not in 1..4194304");
  PARE_CHECK(hidden > 0 && hidden <= (std::size_t{1} << 17), ArgumentError, "llama config: hidden ",
             hidden, " is not in 1..131072");
  PARE_CHECK(ffn > 0 && ffn <= (std::size_t{1} << 17), ArgumentError, "llama config: ffn ", ffn,
             " is not in 1..131072");
  PARE_CHECK(layers > 0 && layers <= 1024, ArgumentError, "llama config: layers ", layers,
             " is not in 1..1024");
  PARE_CHECK(heads > 0 && hidden % heads == 0 && (hidden / heads) % 2 == 0, ArgumentError,
             "llama config: ", heads, " heads do not split hidden ", hidden,
             " into heads of an even width");
  PARE_CHECK(kv_heads > 0 && heads % kv_heads == 0, ArgumentError, "llama config: ", kv_heads,
             " key/value heads do not divide ", heads, " query heads");
  PARE_CHECK(context > 0 && context <= (std::size_t{1} << 20), ArgumentError,
             "llama config: context ", context, " is not in 1..1048576");
  PARE_CHECK(std::isfinite(rms_eps) && rms_eps > 0 && std::isfinite(rope_theta) && rope_theta > 0,
             ArgumentError, "llama config: rms_eps ", rms_eps, " and rope_theta ", rope_theta,
             " must be positive and finite");
  const double total = weight_count();
  PARE_CHECK(total <= double(std::size_t{1} << 38), ArgumentError, "llama config: ", describe(),
             " has ", total, " weights, more than pare loads (2^38)");
}

PARE_INLINE std::string LlamaConfig::describe() const {
  return ::pare::detail::concat("hidden ", hidden, ", ", layers, " layers, ", heads, " heads (",
                                kv_heads, " kv), ffn ", ffn, ", vocab ", vocab_size, ", context ",
                                context);
}

}  // namespace pare::llm
