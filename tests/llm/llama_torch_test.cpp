// SPDX-License-Identifier: Apache-2.0
// pare's decoder against PyTorch on a small llama trained for the purpose
// (scripts/llm/train_tiny_llama.py; tests/data/llm/tiny/README.md): the same weights read from the
// Hugging Face folder and from the GGUF file that llama.cpp's own gguf-py wrote give PyTorch's
// logits within 1e-4, and greedy decoding with the KV cache reproduces PyTorch's 32 tokens.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "pare/core/json.hpp"
#include "pare/io/npy.hpp"
#include "pare/llm.hpp"

namespace {

namespace llm = pare::llm;
const std::string tiny = std::string(PARE_TEST_DATA_DIR) + "/llm/tiny";

std::vector<std::int32_t> ids_of(const pare::Json& a) {
  std::vector<std::int32_t> v;
  for (const auto& x : a.as_array()) v.push_back(static_cast<std::int32_t>(x.as_uint64()));
  return v;
}

}  // namespace

TEST_CASE("llama (trained): f32 logits match PyTorch within 1e-4 from both file layouts") {
  const auto ids = pare::io::read_npy<std::int32_t, 1>(tiny + "/prompt_ids.npy");
  const auto ref = pare::io::read_npy<float, 2>(tiny + "/logits.npy");
  const std::vector<std::int32_t> prompt(ids.data(), ids.data() + ids.size());
  for (const std::string& path : {tiny, tiny + "/tiny.gguf"}) {
    INFO(path);
    const auto m = llm::load_llama(path);
    REQUIRE(m.config().vocab_size == ref.extent(1));
    CHECK(m.parameters() == 2361024);
    llm::KvCache cache(m.config());
    std::vector<float> logits(prompt.size() * m.config().vocab_size);
    m.forward(prompt, cache, logits);
    float worst = 0;
    for (std::size_t i = 0; i < logits.size(); ++i)
      worst = std::max(worst, std::abs(logits[i] - ref.data()[i]));
    CHECK(worst < 1e-4f);
  }
}

TEST_CASE("llama (trained): greedy decoding with the KV cache gives PyTorch's tokens") {
  const auto g = pare::Json::parse(pare::llm::read_text_file(tiny + "/greedy.json"));
  const auto prompt = ids_of(g.at("prompt_ids")), want = ids_of(g.at("generated_ids"));
  for (const std::string& path : {tiny, tiny + "/tiny.gguf"}) {
    INFO(path);
    const auto m = llm::load_llama(path);
    llm::KvCache cache(m.config());
    llm::Sampler greedy;
    std::vector<std::int32_t> got;
    llm::generate(m, cache, prompt, want.size(), greedy, [&](std::int32_t id) {
      got.push_back(id);
      return true;
    });
    CHECK(got == want);
  }
}
