// SPDX-License-Identifier: Apache-2.0
// make_random_llama — a llama-architecture GGUF of random weights, for speed comparisons where the
// text does not matter (pare's llm_bench against llama.cpp's llama-bench on the same file).
//
//   make_random_llama OUT.gguf TYPE [VOCAB.gguf] [--shape tinyllama|small]
//
// TYPE is f32, f16, q8_0 or q4_0 (every 2-d weight, embedding and output included; norms f32).
// VOCAB.gguf lends its tokenizer.* metadata (llama.cpp refuses a model without a vocabulary):
// llama.cpp's models/ggml-vocab-llama-spm.gguf serves. Shapes: tinyllama = TinyLlama-1.1B
// (hidden 2048, 22 layers, 32 heads, 4 kv heads, ffn 5632, vocab 32000); small = hidden 512,
// 4 layers (for quick checks); fuzz = hidden 32, 1 layer, vocab 16 (a fuzzing seed). Weights
// uniform in ±sqrt(3)·0.02 (std 0.02), norms 1.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "pare/core/random.hpp"
#include "pare/io/gguf.hpp"

namespace io = pare::io;

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr,
                 "usage: make_random_llama OUT.gguf f32|f16|q8_0|q4_0 [VOCAB.gguf] "
                 "[--shape tinyllama|small|fuzz]\n");
    return 2;
  }
  const std::string out = argv[1], type_name = argv[2];
  std::string vocab, shape = "tinyllama";
  for (int i = 3; i < argc; ++i) {
    if (std::strcmp(argv[i], "--shape") == 0 && i + 1 < argc)
      shape = argv[++i];
    else
      vocab = argv[i];
  }
  io::GgmlType type;
  if (type_name == "f32")
    type = io::GgmlType::f32;
  else if (type_name == "f16")
    type = io::GgmlType::f16;
  else if (type_name == "q8_0")
    type = io::GgmlType::q8_0;
  else if (type_name == "q4_0")
    type = io::GgmlType::q4_0;
  else {
    std::fprintf(stderr, "make_random_llama: unknown type %s\n", type_name.c_str());
    return 2;
  }
  std::size_t hidden = 2048, layers = 22, heads = 32, kv_heads = 4, ffn = 5632, n_vocab = 32000;
  if (shape == "fuzz") {  // the fuzzer's seed: every tensor of a llama, a few KiB
    hidden = 32;
    layers = 1;
    heads = 2;
    kv_heads = 1;
    ffn = 64;
    n_vocab = 16;
  } else if (shape == "small") {
    hidden = 512;
    layers = 4;
    heads = 8;
    kv_heads = 4;
    ffn = 1408;
  }
  try {
    io::GgufMetadata md = {{"general.architecture", "llama"},
                           {"general.name", "pare random llama " + shape},
                           {"llama.context_length", std::uint32_t(2048)},
                           {"llama.embedding_length", std::uint32_t(hidden)},
                           {"llama.block_count", std::uint32_t(layers)},
                           {"llama.feed_forward_length", std::uint32_t(ffn)},
                           {"llama.attention.head_count", std::uint32_t(heads)},
                           {"llama.attention.head_count_kv", std::uint32_t(kv_heads)},
                           {"llama.rope.dimension_count", std::uint32_t(hidden / heads)},
                           {"llama.rope.freq_base", 10000.0f},
                           {"llama.attention.layer_norm_rms_epsilon", 1e-5f},
                           {"general.file_type", std::uint32_t(type == io::GgmlType::f32    ? 0
                                                               : type == io::GgmlType::f16  ? 1
                                                               : type == io::GgmlType::q4_0 ? 2
                                                                                            : 7)}};
    if (!vocab.empty()) {
      const auto v = io::GgufFile::open(vocab);
      for (const auto& e : v.metadata())
        if (e.key.rfind("tokenizer.", 0) == 0) md.set(e.key, e.value);
      n_vocab = v.metadata().get_array<std::string>("tokenizer.ggml.tokens").size();
    }
    md.set("llama.vocab_size", std::uint32_t(n_vocab));
    const std::size_t kv = hidden / heads * kv_heads;
    struct Spec {
      std::string name;
      std::vector<std::size_t> shape;
    };
    std::vector<Spec> specs = {{"token_embd.weight", {n_vocab, hidden}}};
    for (std::size_t b = 0; b < layers; ++b) {
      const std::string p = "blk." + std::to_string(b) + ".";
      specs.push_back({p + "attn_norm.weight", {hidden}});
      specs.push_back({p + "attn_q.weight", {hidden, hidden}});
      specs.push_back({p + "attn_k.weight", {kv, hidden}});
      specs.push_back({p + "attn_v.weight", {kv, hidden}});
      specs.push_back({p + "attn_output.weight", {hidden, hidden}});
      specs.push_back({p + "ffn_norm.weight", {hidden}});
      specs.push_back({p + "ffn_gate.weight", {ffn, hidden}});
      specs.push_back({p + "ffn_up.weight", {ffn, hidden}});
      specs.push_back({p + "ffn_down.weight", {hidden, ffn}});
    }
    specs.push_back({"output_norm.weight", {hidden}});
    specs.push_back({"output.weight", {n_vocab, hidden}});
    // Each tensor is encoded as soon as it is drawn, so only the packed file is ever in memory.
    pare::Rng rng(2024);
    const float a = std::sqrt(3.0f) * 0.02f;
    std::vector<std::vector<std::byte>> packed(specs.size());
    std::vector<io::GgufWriteTensor> ts;
    for (std::size_t i = 0; i < specs.size(); ++i) {
      std::size_t n = 1;
      for (auto d : specs[i].shape) n *= d;
      const bool norm = specs[i].shape.size() == 1;
      std::vector<float> v(n);
      for (auto& x : v) x = norm ? 1.0f : rng.uniform(-a, a);
      const io::GgmlType t = norm ? io::GgmlType::f32 : type;
      const auto info = *io::ggml_type_info(t);
      packed[i].resize(n / info.block_size * info.type_size);
      if (t == io::GgmlType::f32)
        std::memcpy(packed[i].data(), v.data(), n * 4);
      else if (t == io::GgmlType::f16)
        for (std::size_t k = 0; k < n; ++k) {
          const std::uint16_t h = pare::f16(v[k]).bits();
          std::memcpy(packed[i].data() + 2 * k, &h, 2);
        }
      else
        io::gguf_quantize(t, v, packed[i]);
      ts.push_back({specs[i].name, specs[i].shape, t, {}, packed[i]});
    }
    io::write_gguf(out, md, ts);
    std::printf("%s: %s llama %s, %zu tensors\n", out.c_str(), type_name.c_str(), shape.c_str(),
                ts.size());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "make_random_llama: %s\n", e.what());
    return 1;
  }
}
