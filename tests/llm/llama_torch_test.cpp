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
#include "pare/io/gguf.hpp"
#include "pare/io/npy.hpp"
#include "pare/llm.hpp"
#include "pare/llm/tokenizer.hpp"

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

TEST_CASE("llama (trained): perplexity in f32, int8, RTN and GPTQ 4-bit; GPTQ nearer f32") {
  const auto tok = pare::llm::Tokenizer::from_gguf(pare::io::GgufFile::open(tiny + "/tiny.gguf"));
  auto ids = tok.encode(llm::read_text_file(tiny + "/heldout.txt"), true);
  REQUIRE(ids.size() == 10988);  // PyTorch's count (heldout_ppl.json)
  ids.resize(1024);              // 4 disjoint windows keep the sanitizer build quick
  const auto calib_ids = tok.encode(llm::read_text_file(tiny + "/calibration.txt"), true);
  std::vector<std::vector<std::int32_t>> calib;
  for (std::size_t i = 0; i + 256 <= calib_ids.size() && calib.size() < 8; i += 256)
    calib.emplace_back(calib_ids.begin() + long(i), calib_ids.begin() + long(i + 256));
  auto ppl = [&](const llm::LlamaModel& m) {
    return llm::perplexity(m, ids, 256, 256).perplexity();
  };
  const auto f32 = llm::load_llama(tiny);
  const double p32 = ppl(f32);
  llm::LoadOptions o;
  o.format = llm::WeightFormat::int8;
  const double p8 = ppl(llm::load_llama(tiny, o));
  o.format = llm::WeightFormat::q4g32;
  const double rtn = ppl(llm::load_llama(tiny, o));
  auto g = llm::gptq_quantize(f32, calib, {.format = llm::WeightFormat::q4g32});
  g.output() = llm::load_llama(tiny, o).output();  // int8, like the RTN model's
  const double gptq = ppl(g);
  INFO("f32 " << p32 << ", int8 " << p8 << ", RTN q4g32 " << rtn << ", GPTQ q4g32 " << gptq);
  CHECK(std::abs(p8 - p32) < 0.01 * p32);
  CHECK(std::abs(rtn - p32) < 0.05 * p32);
  CHECK(std::abs(gptq - p32) < std::abs(rtn - p32));
}
