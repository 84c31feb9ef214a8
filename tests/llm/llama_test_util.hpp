// SPDX-License-Identifier: Apache-2.0
// Random llama checkpoints for the llm tests: the weights under Hugging Face names, config.json
// text, and the conversions to llama.cpp's GGUF layout (names, the Q/K row permutation).
#pragma once

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "pare/core/random.hpp"
#include "pare/core/tensor.hpp"
#include "pare/llm/config.hpp"

namespace pare_test {

/// A llama's config and weights under Hugging Face names ([rows, cols]; norms as [1, n]).
struct RandomLlama {
  pare::llm::LlamaConfig c;
  std::vector<std::pair<std::string, pare::Tensor<float, 2>>> hf;  // norms as [1, n]
};

/// Small random weights: vocab 96, hidden 64, 4 heads / 2 KV heads, ffn 128, context 64.
inline RandomLlama random_llama(std::uint64_t seed, std::size_t layers) {
  RandomLlama m;
  m.c.vocab_size = 96;
  m.c.hidden = 64;
  m.c.layers = layers;
  m.c.heads = 4;
  m.c.kv_heads = 2;
  m.c.ffn = 128;
  m.c.context = 64;
  pare::Rng rng(seed);
  auto mat = [&](std::size_t r, std::size_t c, float s) {
    pare::Tensor<float, 2> t({r, c});
    for (std::size_t i = 0; i < t.size(); ++i) t.data()[i] = rng.uniform(-s, s);
    return t;
  };
  auto norm = [&](std::size_t n) {
    pare::Tensor<float, 2> t({1, n});
    for (std::size_t i = 0; i < n; ++i) t.data()[i] = rng.uniform(0.8f, 1.2f);
    return t;
  };
  const auto& c = m.c;
  const float s = 1.0f / std::sqrt(float(c.hidden));
  m.hf.emplace_back("model.embed_tokens.weight", mat(c.vocab_size, c.hidden, 1.0f));
  for (std::size_t b = 0; b < c.layers; ++b) {
    const std::string p = "model.layers." + std::to_string(b) + ".";
    m.hf.emplace_back(p + "input_layernorm.weight", norm(c.hidden));
    m.hf.emplace_back(p + "self_attn.q_proj.weight", mat(c.hidden, c.hidden, s));
    m.hf.emplace_back(p + "self_attn.k_proj.weight", mat(c.kv_width(), c.hidden, s));
    m.hf.emplace_back(p + "self_attn.v_proj.weight", mat(c.kv_width(), c.hidden, s));
    m.hf.emplace_back(p + "self_attn.o_proj.weight", mat(c.hidden, c.hidden, s));
    m.hf.emplace_back(p + "post_attention_layernorm.weight", norm(c.hidden));
    m.hf.emplace_back(p + "mlp.gate_proj.weight", mat(c.ffn, c.hidden, s));
    m.hf.emplace_back(p + "mlp.up_proj.weight", mat(c.ffn, c.hidden, s));
    m.hf.emplace_back(p + "mlp.down_proj.weight",
                      mat(c.hidden, c.ffn, 1.0f / std::sqrt(float(c.ffn))));
  }
  m.hf.emplace_back("model.norm.weight", norm(c.hidden));
  m.hf.emplace_back("lm_head.weight", mat(c.vocab_size, c.hidden, s));
  return m;
}

/// config.json for `c`, with `extra` members appended (", \"key\": value").
inline std::string config_json(const pare::llm::LlamaConfig& c, const std::string& extra = "",
                               bool tied = false) {
  return "{\"architectures\": [\"LlamaForCausalLM\"], \"model_type\": \"llama\", "
         "\"hidden_size\": " +
         std::to_string(c.hidden) + ", \"intermediate_size\": " + std::to_string(c.ffn) +
         ", \"num_attention_heads\": " + std::to_string(c.heads) +
         ", \"num_key_value_heads\": " + std::to_string(c.kv_heads) +
         ", \"num_hidden_layers\": " + std::to_string(c.layers) +
         ", \"vocab_size\": " + std::to_string(c.vocab_size) +
         ", \"max_position_embeddings\": " + std::to_string(c.context) +
         ", \"rms_norm_eps\": 1e-05, \"rope_theta\": 10000.0, \"tie_word_embeddings\": " +
         (tied ? "true" : "false") + ", \"hidden_act\": \"silu\"" + extra + "}";
}

inline void write_text(const std::filesystem::path& p, const std::string& s) {
  std::ofstream(p, std::ios::binary) << s;
}

/// llama.cpp's convert_hf_to_gguf Q/K permutation, written independently of the library's.
inline pare::Tensor<float, 2> permute_rows(const pare::Tensor<float, 2>& t, std::size_t heads) {
  const std::size_t rows = t.extent(0), cols = t.extent(1), d = rows / heads;
  pare::Tensor<float, 2> out({rows, cols});
  for (std::size_t h = 0; h < heads; ++h)
    for (std::size_t i = 0; i < d / 2; ++i)
      for (std::size_t s = 0; s < 2; ++s)
        std::copy(t.data() + (h * d + s * (d / 2) + i) * cols,
                  t.data() + (h * d + s * (d / 2) + i + 1) * cols,
                  out.data() + (h * d + 2 * i + s) * cols);
  return out;
}

inline std::string gguf_name(const std::string& hf) {
  if (hf == "model.embed_tokens.weight") return "token_embd.weight";
  if (hf == "model.norm.weight") return "output_norm.weight";
  if (hf == "lm_head.weight") return "output.weight";
  const std::size_t dot = hf.find('.', 13);
  const std::string b = hf.substr(13, dot - 13), rest = hf.substr(dot + 1);
  static const std::pair<const char*, const char*> map[] = {
      {"input_layernorm.weight", "attn_norm.weight"},
      {"self_attn.q_proj.weight", "attn_q.weight"},
      {"self_attn.k_proj.weight", "attn_k.weight"},
      {"self_attn.v_proj.weight", "attn_v.weight"},
      {"self_attn.o_proj.weight", "attn_output.weight"},
      {"post_attention_layernorm.weight", "ffn_norm.weight"},
      {"mlp.gate_proj.weight", "ffn_gate.weight"},
      {"mlp.up_proj.weight", "ffn_up.weight"},
      {"mlp.down_proj.weight", "ffn_down.weight"}};
  for (const auto& [from, to] : map)
    if (rest == from) return "blk." + b + "." + to;
  return hf;
}

}  // namespace pare_test
