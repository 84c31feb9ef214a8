// SPDX-License-Identifier: Apache-2.0
// quantize_checkpoint on a small random llama: a two-shard Hugging Face folder streamed into
// GGUF gives the blocks io::write_gguf gives for the same (permuted) floats, loads with
// load_llama and stays near the float model; GGUF inputs re-quantize or copy; the tokenizer and
// mixed-precision options; failures (a throwing progress callback, missing or truncated shards,
// wrong shapes) leave no output file. The GGUF stream writer's own contract is tested here too.
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <string>
#include <vector>

#include "io/io_test_util.hpp"
#include "llm/llama_test_util.hpp"
#include "pare/core/random.hpp"
#include "pare/io/gguf.hpp"
#include "pare/io/gguf_stream_writer.hpp"
#include "pare/io/safetensors.hpp"
#include "pare/llm.hpp"

namespace {

namespace llm = pare::llm;
namespace io = pare::io;
namespace fs = std::filesystem;
using pare::Tensor;
using pare_test::TempDir;

using Model = pare_test::RandomLlama;
using pare_test::config_json;
using pare_test::gguf_name;
using pare_test::permute_rows;
using pare_test::write_text;

Model random_model(std::uint64_t seed) { return pare_test::random_llama(seed, 3); }

/// The model as a Hugging Face folder in two shards (bf16 when asked) with an index.
void write_hf_shards(const fs::path& dir, const Model& m, bool tied = false, bool bf16 = false) {
  std::vector<io::SafetensorsEntry> e[2];
  std::vector<Tensor<float, 1>> vecs;
  std::vector<Tensor<pare::bf16, 2>> halves;
  vecs.reserve(m.hf.size());
  halves.reserve(m.hf.size());
  std::string map;
  for (std::size_t k = 0; k < m.hf.size(); ++k) {
    const auto& [name, t] = m.hf[k];
    if (tied && name == "lm_head.weight") continue;
    const int shard = k < m.hf.size() / 2 ? 0 : 1;
    if (t.extent(0) == 1 && name.find("norm") != std::string::npos) {
      vecs.emplace_back(Tensor<float, 1>({t.extent(1)}));
      std::copy(t.data(), t.data() + t.size(), vecs.back().data());
      e[shard].push_back(io::safetensors_entry(name, vecs.back()));
    } else if (bf16) {
      halves.emplace_back(Tensor<pare::bf16, 2>(t.extents()));
      for (std::size_t i = 0; i < t.size(); ++i) halves.back().data()[i] = pare::bf16(t.data()[i]);
      e[shard].push_back(io::safetensors_entry(name, halves.back()));
    } else {
      e[shard].push_back(io::safetensors_entry(name, t));
    }
    map += std::string(map.empty() ? "" : ", ") + "\"" + name + "\": \"model-0000" +
           std::to_string(shard + 1) + "-of-00002.safetensors\"";
  }
  io::write_safetensors(dir / "model-00001-of-00002.safetensors", e[0]);
  io::write_safetensors(dir / "model-00002-of-00002.safetensors", e[1]);
  write_text(dir / "model.safetensors.index.json",
             "{\"metadata\": {\"total_size\": 0}, \"weight_map\": {" + map + "}}");
  write_text(dir / "config.json", config_json(m.c, "", tied));
}

/// The reference file: io::write_gguf of the permuted floats, every tensor of `type_of(name)`.
template <class TypeOf>
void write_reference(const fs::path& p, const Model& m, TypeOf type_of) {
  std::vector<Tensor<float, 2>> keep;
  keep.reserve(m.hf.size());
  std::vector<io::GgufWriteTensor> ts;
  for (const auto& [name, t] : m.hf) {
    const bool q = name.find("q_proj") != std::string::npos,
               k = name.find("k_proj") != std::string::npos;
    keep.push_back(q ? permute_rows(t, m.c.heads) : k ? permute_rows(t, m.c.kv_heads) : t);
    const std::string g = gguf_name(name);
    io::GgufWriteTensor e = io::gguf_tensor(g, keep.back(), type_of(g));
    if (t.extent(0) == 1) e.shape = {t.extent(1)};
    ts.push_back(std::move(e));
  }
  io::write_gguf(p,
                 {{"general.architecture", "llama"},
                  {"llama.context_length", std::uint32_t(m.c.context)},
                  {"llama.embedding_length", std::uint32_t(m.c.hidden)},
                  {"llama.block_count", std::uint32_t(m.c.layers)},
                  {"llama.feed_forward_length", std::uint32_t(m.c.ffn)},
                  {"llama.attention.head_count", std::uint32_t(m.c.heads)},
                  {"llama.attention.head_count_kv", std::uint32_t(m.c.kv_heads)},
                  {"llama.rope.dimension_count", std::uint32_t(m.c.head_dim())},
                  {"llama.rope.freq_base", 10000.0f},
                  {"llama.attention.layer_norm_rms_epsilon", 1e-5f}},
                 ts);
}

std::vector<float> run(const llm::LlamaModel& m) {
  static const std::vector<std::int32_t> prompt = {1, 17, 42, 5, 88, 63, 9, 0, 31, 95, 2};
  llm::KvCache cache(m.config());
  std::vector<float> logits(prompt.size() * m.config().vocab_size);
  m.forward(prompt, cache, logits);
  return logits;
}

double relative_error(const std::vector<float>& a, const std::vector<float>& ref) {
  REQUIRE(a.size() == ref.size());
  double e = 0, r = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    e += (double(a[i]) - ref[i]) * (double(a[i]) - ref[i]);
    r += double(ref[i]) * ref[i];
  }
  return std::sqrt(e / r);
}

bool same_tensor_bytes(const io::GgufFile& a, const io::GgufFile& b, const std::string& name) {
  const auto x = a.raw(name), y = b.raw(name);
  return a.info(name).type == b.info(name).type && x.size() == y.size() &&
         std::equal(x.begin(), x.end(), y.begin());
}

}  // namespace

TEST_CASE("quantize_checkpoint: a sharded HF folder to Q8_0 and Q4_0 GGUF") {
  TempDir dir;
  const Model m = random_model(31);
  write_hf_shards(dir.path(), m);
  const auto f32 = run(llm::load_llama(dir.path()));

  for (auto [type, bound] :
       {std::pair{io::GgmlType::q8_0, 0.02}, std::pair{io::GgmlType::q4_0, 0.25}}) {
    INFO(io::name(type));
    llm::CheckpointQuantizeOptions o;
    o.type = type;
    o.chunk_bytes = 64 * 4 * 5;  // 5 rows at a time: row blocks that do not divide the tensors
    std::size_t calls = 0;
    std::uint64_t last = 0, total = 0;
    o.progress = [&](const llm::CheckpointProgress& p) {
      ++calls;
      CHECK(p.bytes_done >= last);
      last = p.bytes_done;
      total = p.bytes_total;
    };
    const auto r = llm::quantize_checkpoint(dir.path(), dir / "out.gguf", o);
    CHECK(calls > r.tensors);
    CHECK(last == total);
    CHECK(r.input_bytes == total);
    CHECK(r.tensors == 2 + 9 * m.c.layers + 1);
    CHECK(r.f32 == 2 * m.c.layers + 1);
    CHECK(fs::file_size(dir / "out.gguf") == r.output_bytes);

    // Byte for byte what write_gguf makes of the permuted floats (Q8_0 token_embd and output).
    write_reference(dir / "ref.gguf", m, [&](const std::string& g) {
      if (g.find("norm") != std::string::npos) return io::GgmlType::f32;
      if (g == "token_embd.weight" || g == "output.weight") return io::GgmlType::q8_0;
      return type;
    });
    const auto out = io::GgufFile::open(dir / "out.gguf");
    const auto ref = io::GgufFile::open(dir / "ref.gguf");
    CHECK(out.tensors().size() == ref.tensors().size());
    for (const auto& t : ref.tensors()) {
      INFO(t.name);
      REQUIRE(out.contains(t.name));
      CHECK(out.info(t.name).shape == t.shape);
      CHECK(same_tensor_bytes(out, ref, t.name));
    }
    CHECK(out.metadata().get<std::string>("general.architecture") == "llama");
    CHECK(out.metadata().get<std::uint32_t>("general.file_type") ==
          (type == io::GgmlType::q4_0 ? 2u : 7u));
    CHECK(out.metadata().get<std::uint32_t>("llama.attention.head_count_kv") == 2u);

    // Loads, and the logits stay near the float model's.
    const auto q = run(llm::load_llama(dir / "out.gguf"));
    INFO("relative error " << relative_error(q, f32));
    CHECK(relative_error(q, f32) < bound);
    CHECK(relative_error(q, f32) > 0);
  }

  // config.json names the folder too; Q8_0 is the default.
  const auto r = llm::quantize_checkpoint(dir / "config.json", dir / "q8.gguf");
  CHECK(r.q8_0 == 7 * m.c.layers + 2);
}

TEST_CASE("quantize_checkpoint: bf16 shards, tied embeddings, mixed precision, tokenizer") {
  TempDir dir;
  const Model m = random_model(5);
  write_hf_shards(dir.path(), m, /*tied=*/true, /*bf16=*/true);
  // A tokenizer file with as many tokens as the model's vocabulary.
  std::vector<std::string> tokens;
  for (std::size_t i = 0; i < m.c.vocab_size; ++i) tokens.push_back("t" + std::to_string(i));
  Tensor<float, 1> one({32});
  io::write_gguf(dir / "vocab.gguf",
                 {{"general.architecture", "llama"},
                  {"tokenizer.ggml.model", "llama"},
                  {"tokenizer.ggml.tokens", io::GgufArray(tokens)},
                  {"tokenizer.ggml.bos_token_id", std::uint32_t(1)}},
                 {io::gguf_tensor("x", one)});

  llm::CheckpointQuantizeOptions o;
  o.type = io::GgmlType::q4_0;
  o.keep_q8 = {"attn_v", "ffn_down"};
  o.keep_q8_edge_blocks = 1;
  o.tokenizer_from = dir / "vocab.gguf";
  o.name = "tiny";
  const auto r = llm::quantize_checkpoint(dir.path(), dir / "out.gguf", o);
  const auto out = io::GgufFile::open(dir / "out.gguf");
  CHECK(!out.contains("output.weight"));  // tied: readers use token_embd
  CHECK(r.tensors == 1 + 9 * m.c.layers + 1);
  CHECK(out.info("blk.0.attn_q.weight").type == io::GgmlType::q8_0);  // edge block
  CHECK(out.info("blk.2.ffn_up.weight").type == io::GgmlType::q8_0);
  CHECK(out.info("blk.1.attn_q.weight").type == io::GgmlType::q4_0);
  CHECK(out.info("blk.1.ffn_up.weight").type == io::GgmlType::q4_0);
  CHECK(out.info("blk.1.attn_v.weight").type == io::GgmlType::q8_0);  // keep_q8
  CHECK(out.info("blk.1.ffn_down.weight").type == io::GgmlType::q8_0);
  CHECK(out.info("token_embd.weight").type == io::GgmlType::q8_0);
  CHECK(out.metadata().get<std::string>("tokenizer.ggml.model") == "llama");
  CHECK(out.metadata().get_array<std::string>("tokenizer.ggml.tokens") == tokens);
  CHECK(out.metadata().get<std::string>("general.name") == "tiny");

  // bf16 inputs: the floats the blocks were made from are the bf16 values.
  Model rounded = m;
  for (auto& [name, t] : rounded.hf)
    for (std::size_t i = 0; i < t.size(); ++i)
      if (t.extent(0) != 1) t.data()[i] = float(pare::bf16(t.data()[i]));
  write_reference(dir / "ref.gguf", rounded, [&](const std::string& g) {
    if (g.find("norm") != std::string::npos) return io::GgmlType::f32;
    return out.contains(g) ? out.info(g).type : io::GgmlType::q8_0;
  });
  const auto ref = io::GgufFile::open(dir / "ref.gguf");
  for (const auto& t : out.tensors()) {
    INFO(t.name);
    CHECK(same_tensor_bytes(out, ref, t.name));
  }
  const auto f32 = run(llm::load_llama(dir.path()));
  CHECK(relative_error(run(llm::load_llama(dir / "out.gguf")), f32) < 0.25);

  // A vocabulary of another size, an unknown kind, a type that is not Q8_0/Q4_0: refused.
  tokens.pop_back();
  io::write_gguf(
      dir / "vocab95.gguf",
      {{"tokenizer.ggml.model", "llama"}, {"tokenizer.ggml.tokens", io::GgufArray(tokens)}},
      {io::gguf_tensor("x", one)});
  o.tokenizer_from = dir / "vocab95.gguf";
  CHECK_THROWS_AS(llm::quantize_checkpoint(dir.path(), dir / "bad.gguf", o), pare::ArgumentError);
  o.tokenizer_from.clear();
  o.keep_q8 = {"attn_norm"};
  CHECK_THROWS_AS(llm::quantize_checkpoint(dir.path(), dir / "bad.gguf", o), pare::ArgumentError);
  o.keep_q8.clear();
  o.type = io::GgmlType::q4_k;
  CHECK_THROWS_AS(llm::quantize_checkpoint(dir.path(), dir / "bad.gguf", o), pare::ArgumentError);
  CHECK(!fs::exists(dir / "bad.gguf"));
}

TEST_CASE("quantize_checkpoint: GGUF inputs are re-quantized, or copied when already the type") {
  TempDir dir;
  const Model m = random_model(9);
  write_reference(dir / "f32.gguf", m, [](const std::string&) { return io::GgmlType::f32; });
  write_reference(dir / "q8.gguf", m, [](const std::string& g) {
    return g.find("norm") != std::string::npos ? io::GgmlType::f32 : io::GgmlType::q8_0;
  });
  // f32 GGUF to Q8_0: the same blocks write_gguf makes (no permutation: GGUF rows already are).
  llm::CheckpointQuantizeOptions o;
  llm::quantize_checkpoint(dir / "f32.gguf", dir / "a.gguf", o);
  const auto a = io::GgufFile::open(dir / "a.gguf");
  const auto q8 = io::GgufFile::open(dir / "q8.gguf");
  for (const auto& t : q8.tensors()) {
    INFO(t.name);
    CHECK(same_tensor_bytes(a, q8, t.name));
  }
  CHECK(a.metadata().get<std::uint32_t>("llama.rope.dimension_count") == 16u);
  // Q8_0 GGUF to Q8_0: a bit-exact copy of every tensor.
  llm::quantize_checkpoint(dir / "q8.gguf", dir / "b.gguf", o);
  const auto b = io::GgufFile::open(dir / "b.gguf");
  for (const auto& t : q8.tensors()) CHECK(same_tensor_bytes(b, q8, t.name));
  // Q8_0 GGUF to Q4_0 decodes and re-quantizes; it still runs near the float model.
  o.type = io::GgmlType::q4_0;
  llm::quantize_checkpoint(dir / "q8.gguf", dir / "c.gguf", o);
  CHECK(relative_error(run(llm::load_llama(dir / "c.gguf")),
                       run(llm::load_llama(dir / "f32.gguf"))) < 0.25);
}

TEST_CASE("quantize_checkpoint: failures and hostile checkpoints leave no output") {
  TempDir dir;
  const Model m = random_model(17);
  write_hf_shards(dir.path(), m);
  const fs::path out = dir / "out.gguf";

  // Interrupted: the progress callback throws part-way; an older file at the path survives.
  write_text(out, "old");
  llm::CheckpointQuantizeOptions o;
  o.chunk_bytes = 4096;
  int calls = 0;
  o.progress = [&](const llm::CheckpointProgress&) {
    if (++calls == 10) throw std::runtime_error("stop");
  };
  CHECK_THROWS_AS(llm::quantize_checkpoint(dir.path(), out, o), std::runtime_error);
  std::ifstream old(out);
  std::string s;
  old >> s;
  CHECK(s == "old");
  fs::remove(out);
  o.progress = nullptr;
  std::size_t entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir.path())) ++entries;
  CHECK(entries == 4);  // config, index, two shards: no temporary left

  // Non-finite weights cannot be quantized.
  {
    TempDir d2;
    Model bad = m;
    bad.hf[3].second.data()[7] = std::nanf("");
    write_hf_shards(d2.path(), bad);
    CHECK_THROWS_AS(llm::quantize_checkpoint(d2.path(), d2 / "x.gguf", o), pare::FormatError);
    CHECK(!fs::exists(d2 / "x.gguf"));
  }
  // A config that disagrees with the tensors.
  {
    llm::LlamaConfig c = m.c;
    c.ffn = 96;
    write_text(dir / "config.json", config_json(c));
    CHECK_THROWS_AS(llm::quantize_checkpoint(dir.path(), out, o), pare::FormatError);
    write_text(dir / "config.json", config_json(m.c));
  }
  // A truncated shard.
  {
    const fs::path shard = dir / "model-00002-of-00002.safetensors";
    const auto size = fs::file_size(shard);
    fs::copy_file(shard, dir / "keep.bin");
    fs::resize_file(shard, size - 100);
    CHECK_THROWS_AS(llm::quantize_checkpoint(dir.path(), out, o), pare::FormatError);
    // A missing shard.
    fs::remove(shard);
    CHECK_THROWS_AS(llm::quantize_checkpoint(dir.path(), out, o), pare::Error);
    fs::rename(dir / "keep.bin", shard);
  }
  // A tensor the index does not name, a shard name that leaves the folder.
  {
    write_text(dir / "model.safetensors.index.json",
               "{\"weight_map\": {\"model.norm.weight\": \"model-00002-of-00002.safetensors\"}}");
    CHECK_THROWS_AS(llm::quantize_checkpoint(dir.path(), out, o), pare::FormatError);
    write_text(dir / "model.safetensors.index.json",
               "{\"weight_map\": {\"model.norm.weight\": \"../x.safetensors\"}}");
    CHECK_THROWS_AS(llm::quantize_checkpoint(dir.path(), out, o), pare::FormatError);
  }
  CHECK(!fs::exists(out));
  // Another architecture.
  CHECK_THROWS(llm::quantize_checkpoint(dir / "nothing-here", out, o));
  CHECK(!fs::exists(out));
}

TEST_CASE("GgufStreamWriter: pieces, byte accounting, unfinished files") {
  TempDir dir;
  Tensor<float, 2> a({4, 64});
  pare::Rng rng(3);
  for (std::size_t i = 0; i < a.size(); ++i) a.data()[i] = rng.uniform(-1.0f, 1.0f);
  Tensor<float, 1> n({3});
  n.data()[0] = 1;
  n.data()[1] = 2;
  n.data()[2] = 3;
  const io::GgufMetadata md = {{"general.architecture", "test"}};
  io::write_gguf(dir / "ref.gguf", md,
                 {io::gguf_tensor("a", a, io::GgmlType::q4_0), io::gguf_tensor("n", n)});
  {
    io::GgufStreamWriter w(dir / "s.gguf", md,
                           {{"a", {4, 64}, io::GgmlType::q4_0}, {"n", {3}, io::GgmlType::f32}});
    CHECK(w.tensor_bytes(0) == 4 * 2 * 18);
    w.write_floats(std::span<const float>(a.data(), 64));
    CHECK_THROWS_AS(w.write_floats(std::span<const float>(a.data(), 16)), pare::ArgumentError);
    w.write_floats(std::span<const float>(a.data() + 64, 3 * 64));
    CHECK(w.current() == 1);
    const auto bytes = std::as_bytes(n.span());
    w.write(bytes.first(5));  // pieces may end anywhere
    CHECK(w.remaining() == 7);
    CHECK_THROWS_AS(w.write(bytes), pare::ArgumentError);  // more than the tensor needs
    w.write(bytes.subspan(5));
    CHECK(w.current() == 2);
    CHECK_THROWS_AS(w.write(bytes), pare::ArgumentError);
    w.finish();
    CHECK(w.bytes_written() == w.file_size());
  }
  CHECK(pare_test::read_all(dir / "s.gguf") == pare_test::read_all(dir / "ref.gguf"));
  {
    io::GgufStreamWriter w(dir / "u.gguf", md, {{"n", {3}, io::GgmlType::f32}});
    w.write_floats(std::span<const float>(n.data(), 2));
    CHECK_THROWS_AS(w.finish(), pare::ArgumentError);  // one value short
  }
  CHECK(!fs::exists(dir / "u.gguf"));
  {
    io::GgufStreamWriter w(dir / "v.gguf", md, {{"n", {3}, io::GgmlType::f32}});
  }
  CHECK(!fs::exists(dir / "v.gguf"));
  CHECK_THROWS_AS(io::GgufStreamWriter(dir / "w.gguf", md, {{"a", {4, 60}, io::GgmlType::q8_0}}),
                  pare::ArgumentError);
  CHECK_THROWS_AS(
      io::GgufStreamWriter(dir / "w.gguf", md,
                           {{"a", {4}, io::GgmlType::f32}, {"a", {4}, io::GgmlType::f32}}),
      pare::ArgumentError);
  CHECK(!fs::exists(dir / "w.gguf"));
}
