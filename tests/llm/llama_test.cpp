// SPDX-License-Identifier: Apache-2.0
// The llama decoder on synthetic weights: the GGUF layout (permuted Q/K rows, interleaved rotary
// pairs) and the Hugging Face layout (halves) give the same logits; a prompt in one batch equals
// the same prompt token by token; quantized formats stay near f32; hostile configs and files are
// refused. Agreement with PyTorch on a trained model is in llama_torch_test.cpp.
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <numeric>
#include <string>
#include <vector>

#include "io/io_test_util.hpp"
#include "llm/llama_test_util.hpp"
#include "pare/core/random.hpp"
#include "pare/io/gguf.hpp"
#include "pare/io/safetensors.hpp"
#include "pare/llm.hpp"

namespace {

namespace llm = pare::llm;
namespace io = pare::io;
using pare::Tensor;
using pare_test::TempDir;

using Weights = pare_test::RandomLlama;
using pare_test::config_json;
using pare_test::gguf_name;
using pare_test::permute_rows;
using pare_test::write_text;

Weights random_weights(std::uint64_t seed = 7) { return pare_test::random_llama(seed, 2); }

void write_hf(const std::filesystem::path& dir, const Weights& w, const std::string& extra = "") {
  std::vector<io::SafetensorsEntry> e;
  std::vector<Tensor<float, 1>> vecs;
  vecs.reserve(w.hf.size());
  for (const auto& [name, t] : w.hf) {
    if (t.extent(0) == 1 && name.find("norm") != std::string::npos) {
      vecs.emplace_back(Tensor<float, 1>({t.extent(1)}));
      std::copy(t.data(), t.data() + t.size(), vecs.back().data());
      e.push_back(io::safetensors_entry(name, vecs.back()));
    } else {
      e.push_back(io::safetensors_entry(name, t));
    }
  }
  io::write_safetensors(dir / "model.safetensors", e);
  write_text(dir / "config.json", config_json(w.c, extra));
}

io::GgufMetadata gguf_metadata(const llm::LlamaConfig& c) {
  return {{"general.architecture", "llama"},
          {"llama.context_length", std::uint32_t(c.context)},
          {"llama.embedding_length", std::uint32_t(c.hidden)},
          {"llama.block_count", std::uint32_t(c.layers)},
          {"llama.feed_forward_length", std::uint32_t(c.ffn)},
          {"llama.attention.head_count", std::uint32_t(c.heads)},
          {"llama.attention.head_count_kv", std::uint32_t(c.kv_heads)},
          {"llama.rope.dimension_count", std::uint32_t(c.head_dim())},
          {"llama.rope.freq_base", 10000.0f},
          {"llama.attention.layer_norm_rms_epsilon", 1e-5f}};
}

void write_gguf_model(const std::filesystem::path& p, const Weights& w,
                      io::GgmlType linear_type = io::GgmlType::f32, io::GgufMetadata md = {}) {
  if (md.empty()) md = gguf_metadata(w.c);
  std::vector<Tensor<float, 2>> keep;
  keep.reserve(w.hf.size());
  std::vector<io::GgufWriteTensor> ts;
  for (const auto& [name, t] : w.hf) {
    const bool q = name.find("q_proj") != std::string::npos,
               k = name.find("k_proj") != std::string::npos;
    keep.push_back(q ? permute_rows(t, w.c.heads) : k ? permute_rows(t, w.c.kv_heads) : t);
    const bool is_norm = t.extent(0) == 1;
    io::GgufWriteTensor e =
        io::gguf_tensor(gguf_name(name), keep.back(), is_norm ? io::GgmlType::f32 : linear_type);
    if (is_norm) e.shape = {t.extent(1)};
    ts.push_back(std::move(e));
  }
  io::write_gguf(p, md, ts);
}

std::vector<float> run(const llm::LlamaModel& m, const std::vector<std::int32_t>& ids,
                       bool all = false) {
  llm::KvCache cache(m.config());
  std::vector<float> logits((all ? ids.size() : 1) * m.config().vocab_size);
  m.forward(ids, cache, logits);
  return logits;
}

float max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  float d = 0;
  for (std::size_t i = 0; i < a.size(); ++i) d = std::max(d, std::abs(a[i] - b[i]));
  return d;
}

const std::vector<std::int32_t> prompt = {1, 17, 42, 5, 88, 63, 9, 0, 31, 95, 2};

}  // namespace

TEST_CASE("llama: the GGUF layout and the Hugging Face layout give the same logits") {
  TempDir dir;
  const Weights w = random_weights();
  write_hf(dir.path(), w);
  write_gguf_model(dir / "m.gguf", w);
  const auto hf = llm::load_llama(dir.path());
  const auto gg = llm::load_llama(dir / "m.gguf");
  CHECK(hf.config().rope == llm::RopeLayout::halves);
  CHECK(gg.config().rope == llm::RopeLayout::interleaved);
  const auto a = run(hf, prompt, true), b = run(gg, prompt, true);
  CHECK(max_abs_diff(a, b) < 2e-5f);
  float mx = 0;
  for (float x : a) mx = std::max(mx, std::abs(x));
  CHECK(mx > 0.1f);  // not a degenerate model
}

TEST_CASE("llama: a prompt in one batch equals the prompt token by token") {
  TempDir dir;
  write_hf(dir.path(), random_weights(3));
  const auto m = llm::load_llama(dir.path());
  const std::size_t V = m.config().vocab_size;
  const auto all = run(m, prompt, true);
  llm::KvCache cache(m.config());
  std::vector<float> step(V);
  for (std::size_t i = 0; i < prompt.size(); ++i) {
    m.forward({&prompt[i], 1}, cache, step);
    const std::vector<float> row(all.begin() + long(i * V), all.begin() + long((i + 1) * V));
    INFO("token " << i);
    CHECK(max_abs_diff(step, row) < 1e-5f);
  }
  CHECK(cache.length() == prompt.size());
  // Two batches of different sizes.
  llm::KvCache c2(m.config());
  std::vector<float> last(V);
  m.forward(std::span(prompt).first(4), c2, last);
  m.forward(std::span(prompt).subspan(4), c2, last);
  const std::vector<float> final_row(all.end() - long(V), all.end());
  CHECK(max_abs_diff(last, final_row) < 1e-5f);
}

TEST_CASE("llama: int8 and 4-bit formats stay close to f32") {
  TempDir dir;
  write_hf(dir.path(), random_weights(11));
  const auto f32 = run(llm::load_llama(dir.path()), prompt, true);
  double ref = 0;
  for (float x : f32) ref += double(x) * x;
  for (auto [fmt, bound] :
       {std::pair{llm::WeightFormat::int8, 0.02}, std::pair{llm::WeightFormat::q4g16, 0.15},
        std::pair{llm::WeightFormat::q4g32, 0.15}, std::pair{llm::WeightFormat::nf4, 0.15},
        std::pair{llm::WeightFormat::q8_0, 0.02}, std::pair{llm::WeightFormat::q4_0, 0.25}}) {
    llm::LoadOptions o;
    o.format = fmt;
    const auto m = llm::load_llama(dir.path(), o);
    CHECK(m.blocks()[0].q.format_name() == llm::format_name(fmt));
    const auto q = run(m, prompt, true);
    double err = 0;
    for (std::size_t i = 0; i < q.size(); ++i) err += double(q[i] - f32[i]) * (q[i] - f32[i]);
    INFO(llm::format_name(fmt) << ": relative error " << std::sqrt(err / ref));
    CHECK(std::sqrt(err / ref) < bound);
    CHECK(std::sqrt(err / ref) > 0);
  }
}

TEST_CASE("llama: a user's own weight format runs inside the decoder") {
  // A format that stores W transposed, as a user's own kernel might.
  struct Transposed {
    Tensor<float, 2> wt;  // [cols, rows]
    std::size_t rows() const { return wt.extent(1); }
    std::size_t cols() const { return wt.extent(0); }
    std::size_t size_bytes() const { return wt.size_bytes(); }
    std::string format_name() const { return "mine"; }
    void multiply(const float* x, std::size_t n, float* y) const {
      for (std::size_t i = 0; i < n; ++i)
        for (std::size_t r = 0; r < rows(); ++r) {
          double s = 0;
          for (std::size_t c = 0; c < cols(); ++c) s += double(x[i * cols() + c]) * wt(c, r);
          y[i * rows() + r] = float(s);
        }
    }
  };
  static_assert(llm::LinearWeightFormat<Transposed>);
  TempDir dir;
  write_hf(dir.path(), random_weights(5));
  llm::LoadOptions o;
  std::size_t calls = 0;
  o.quantizer = [&](std::string_view, pare::TensorView<const float, 2> w) -> llm::LinearWeight {
    ++calls;
    Tensor<float, 2> t({w.extent(1), w.extent(0)});
    for (std::size_t r = 0; r < w.extent(0); ++r)
      for (std::size_t c = 0; c < w.extent(1); ++c) t(c, r) = w(r, c);
    return Transposed{std::move(t)};
  };
  const auto mine = llm::load_llama(dir.path(), o);
  CHECK(calls == 2 * 7);
  CHECK(mine.blocks()[1].down.format_name() == "mine");
  CHECK(mine.blocks()[1].down.get_if<Transposed>() != nullptr);
  CHECK(max_abs_diff(run(mine, prompt), run(llm::load_llama(dir.path()), prompt)) < 1e-4f);
}

TEST_CASE("llama: sampling") {
  const std::vector<float> logits = {0.1f, 2.0f, -1.0f, 2.0f, 0.5f};
  llm::Sampler greedy;
  CHECK(greedy(logits) == 1);  // the lowest id among equal maxima
  llm::Sampler k1({.temperature = 1.0f, .top_k = 1});
  CHECK(k1(logits) == 1);
  llm::Sampler a({.temperature = 0.8f, .top_k = 3, .seed = 9}),
      b({.temperature = 0.8f, .top_k = 3, .seed = 9});
  for (int i = 0; i < 50; ++i) {
    const auto x = a(logits);
    CHECK(x == b(logits));
    CHECK((x == 1 || x == 3 || x == 4));  // top 3 only
  }
  // p = (0.25, 0.75): the draw frequencies follow.
  const std::vector<float> two = {std::log(0.25f), std::log(0.75f)};
  llm::Sampler t1({.temperature = 1.0f, .seed = 3});
  int ones = 0;
  for (int i = 0; i < 20000; ++i) ones += t1(two) == 1;
  CHECK(std::abs(ones / 20000.0 - 0.75) < 0.015);
  // top_p 0.5 keeps only the 0.75 token.
  llm::Sampler p({.temperature = 1.0f, .top_p = 0.5f, .seed = 3});
  for (int i = 0; i < 100; ++i) CHECK(p(two) == 1);
  CHECK_THROWS_AS(llm::Sampler({.temperature = -1.0f}), pare::ArgumentError);
  CHECK_THROWS_AS(llm::Sampler({.top_p = 0.0f}), pare::ArgumentError);
  const std::vector<float> nan = {0.0f, std::nanf("")};
  CHECK_THROWS_AS(greedy(nan), pare::ArgumentError);
}

TEST_CASE("llama: perplexity by windows equals the log-softmax of the logits") {
  TempDir dir;
  write_hf(dir.path(), random_weights(13));
  const auto m = llm::load_llama(dir.path());
  std::vector<std::int32_t> ids(40);
  for (std::size_t i = 0; i < ids.size(); ++i) ids[i] = std::int32_t((i * 37 + 11) % 96);
  // One window over everything: every token after the first scored from the full prefix.
  const auto all = run(m, ids, true);
  double nll = 0;
  const std::size_t V = 96;
  for (std::size_t t = 1; t < ids.size(); ++t) {
    const float* row = all.data() + (t - 1) * V;
    double mx = row[0], z = 0;
    for (std::size_t v = 0; v < V; ++v) mx = std::max(mx, double(row[v]));
    for (std::size_t v = 0; v < V; ++v) z += std::exp(row[v] - mx);
    nll += std::log(z) + mx - row[ids[t]];
  }
  const auto one = llm::perplexity(m, ids, 40, 40);
  CHECK(one.scored == 39);
  CHECK(one.nll_sum == Approx(nll).epsilon(1e-6));
  // Sliding windows score each token once.
  const auto slid = llm::perplexity(m, ids, 16, 8);
  CHECK(slid.scored == 39);
  CHECK(std::isfinite(slid.perplexity()));
  CHECK_THROWS_AS(llm::perplexity(m, ids, 16, 0), pare::ArgumentError);
  CHECK_THROWS_AS(llm::perplexity(m, ids, 1000, 8), pare::ArgumentError);
}

TEST_CASE("llama: hostile configs, files and calls are refused") {
  TempDir dir;
  Weights w = random_weights(1);
  write_hf(dir.path(), w);
  const auto m = llm::load_llama(dir.path());
  llm::KvCache cache(m.config(), 4);
  std::vector<float> logits(m.config().vocab_size);
  const std::vector<std::int32_t> bad = {1, 96};
  CHECK_THROWS_AS(m.forward(bad, cache, logits), pare::ArgumentError);
  const std::vector<std::int32_t> neg = {-1};
  CHECK_THROWS_AS(m.forward(neg, cache, logits), pare::ArgumentError);
  const std::vector<std::int32_t> five = {1, 2, 3, 4, 5};
  CHECK_THROWS_AS(m.forward(five, cache, logits), pare::ArgumentError);  // cache of 4
  std::vector<float> wrong(7);
  CHECK_THROWS_AS(m.forward(std::span(five).first(1), cache, wrong), pare::ShapeError);
  CHECK(cache.length() == 0);

  auto hf_throws = [&](const std::string& text) {
    return llm::hf_llama_config(text, "config.json");
  };
  CHECK_THROWS_AS(hf_throws("{\"model_type\": \"gpt2\"}"), pare::UnsupportedError);
  CHECK_THROWS_AS(hf_throws("[1, 2]"), pare::FormatError);
  CHECK_THROWS_AS(hf_throws("{\"model_type\": \"llama\"}"), pare::FormatError);
  CHECK_THROWS_AS(hf_throws("{\"model_type\": \"llama\""), pare::FormatError);
  CHECK_THROWS_AS(hf_throws(config_json(w.c, ", \"rope_scaling\": {\"type\": \"linear\"}")),
                  pare::UnsupportedError);
  CHECK_THROWS_AS(hf_throws(config_json(w.c, ", \"attention_bias\": true")),
                  pare::UnsupportedError);
  llm::LlamaConfig odd = w.c;
  odd.heads = 5;
  CHECK_THROWS_AS(hf_throws(config_json(odd)), pare::FormatError);
  odd = w.c;
  odd.hidden = std::size_t{1} << 30;
  CHECK_THROWS_AS(hf_throws(config_json(odd)), pare::FormatError);
  odd = w.c;
  odd.kv_heads = 3;
  CHECK_THROWS_AS(hf_throws(config_json(odd)), pare::FormatError);
  CHECK_THROWS_AS(hf_throws(config_json(w.c, ", \"vocab_size\": -5")), pare::FormatError);

  // A config that disagrees with the tensors.
  {
    TempDir d2;
    write_hf(d2.path(), w);
    Weights w2 = w;
    w2.c.ffn = 96;
    write_text(d2 / "config.json", config_json(w2.c));
    CHECK_THROWS_AS(llm::load_llama(d2.path()), pare::FormatError);
    std::filesystem::remove(d2 / "model.safetensors");
    CHECK_THROWS(llm::load_llama(d2.path()));
  }
  // GGUF: another architecture, missing keys, wrong shapes, rope scaling.
  {
    auto md = gguf_metadata(w.c);
    md.set("general.architecture", "falcon");
    write_gguf_model(dir / "falcon.gguf", w, io::GgmlType::f32, md);
    CHECK_THROWS_AS(llm::load_llama(dir / "falcon.gguf"), pare::UnsupportedError);
    md = gguf_metadata(w.c);
    md.set("llama.rope.scaling.type", "linear");
    write_gguf_model(dir / "scaled.gguf", w, io::GgmlType::f32, md);
    CHECK_THROWS_AS(llm::load_llama(dir / "scaled.gguf"), pare::UnsupportedError);
    md = gguf_metadata(w.c);
    md.set("llama.feed_forward_length", std::uint32_t(96));
    write_gguf_model(dir / "shape.gguf", w, io::GgmlType::f32, md);
    CHECK_THROWS_AS(llm::load_llama(dir / "shape.gguf"), pare::FormatError);
    md = gguf_metadata(w.c);
    md.set("llama.attention.head_count", std::uint32_t(0));
    write_gguf_model(dir / "zero.gguf", w, io::GgmlType::f32, md);
    CHECK_THROWS_AS(llm::load_llama(dir / "zero.gguf"), pare::FormatError);
    md = gguf_metadata(w.c);
    md.set("llama.block_count", std::uint32_t(1000000));
    write_gguf_model(dir / "deep.gguf", w, io::GgmlType::f32, md);
    CHECK_THROWS_AS(llm::load_llama(dir / "deep.gguf"), pare::FormatError);
    md = gguf_metadata(w.c);
    md.set("llama.embedding_length", "wide");
    write_gguf_model(dir / "typed.gguf", w, io::GgmlType::f32, md);
    CHECK_THROWS_AS(llm::load_llama(dir / "typed.gguf"), pare::FormatError);
  }
}

TEST_CASE("llama: GGUF Q8_0 and Q4_0 files load and stay near the f32 model") {
  TempDir dir;
  const Weights w = random_weights(21);
  write_gguf_model(dir / "f32.gguf", w);
  const auto f32 = run(llm::load_llama(dir / "f32.gguf"), prompt, true);
  double ref = 0;
  for (float x : f32) ref += double(x) * x;
  for (auto [type, bound] :
       {std::pair{io::GgmlType::q8_0, 0.02}, std::pair{io::GgmlType::q4_0, 0.25}}) {
    write_gguf_model(dir / "q.gguf", w, type);
    const auto m = llm::load_llama(dir / "q.gguf");
    const auto q = run(m, prompt, true);
    double err = 0;
    for (std::size_t i = 0; i < q.size(); ++i) err += double(q[i] - f32[i]) * (q[i] - f32[i]);
    INFO(io::name(type) << " held as " << m.blocks()[0].down.format_name() << ": relative error "
                        << std::sqrt(err / ref));
    CHECK(std::sqrt(err / ref) < bound);
    CHECK(m.blocks()[1].down.format_name() == io::name(type));  // run as stored
    CHECK(m.blocks()[0].qkv.format_name() == io::name(type));   // Q, K, V stacked
    CHECK(m.blocks()[0].gate_up.rows() == 2 * w.c.ffn);
    CHECK(m.output().format_name() == io::name(type));
  }
}

TEST_CASE("llama: GPTQ layer by layer is closer to f32 than round-to-nearest") {
  TempDir dir;
  write_hf(dir.path(), random_weights(17));
  const auto f32 = llm::load_llama(dir.path());
  pare::Rng rng(99);
  auto seqs = [&](std::size_t count, std::size_t len) {
    std::vector<std::vector<std::int32_t>> s(count, std::vector<std::int32_t>(len));
    for (auto& q : s)
      for (auto& t : q) t = std::int32_t(rng.below(96));
    return s;
  };
  const auto calib = seqs(16, 48), eval = seqs(4, 48);
  for (auto fmt : {llm::WeightFormat::q4g32, llm::WeightFormat::nf4}) {
    const auto gptq = llm::gptq_quantize(f32, calib, {.format = fmt});
    llm::LoadOptions o;
    o.format = fmt;
    const auto rtn = llm::load_llama(dir.path(), o);
    CHECK(gptq.blocks()[1].gate.format_name() == llm::format_name(fmt));
    double eg = 0, er = 0;
    for (const auto& s : eval) {
      const auto a = run(f32, s, true), g = run(gptq, s, true), r = run(rtn, s, true);
      for (std::size_t i = 0; i < a.size(); ++i) {
        eg += double(g[i] - a[i]) * (g[i] - a[i]);
        er += double(r[i] - a[i]) * (r[i] - a[i]);
      }
    }
    INFO(llm::format_name(fmt) << ": GPTQ squared error " << eg << ", RTN " << er);
    CHECK(eg < 0.9 * er);
  }
  llm::LoadOptions q8;
  q8.format = llm::WeightFormat::int8;
  CHECK_THROWS_AS(llm::gptq_quantize(llm::load_llama(dir.path(), q8), calib), pare::ArgumentError);
  CHECK_THROWS_AS(llm::gptq_quantize(f32, calib, {.format = llm::WeightFormat::q4_0}),
                  pare::UnsupportedError);
}
