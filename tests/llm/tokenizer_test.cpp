// SPDX-License-Identifier: Apache-2.0
// The GGUF tokenizer against llama.cpp's own vocabulary test vectors (tests/data/llm/vocab: the
// .out ids are what llama.cpp's tokenizer produced for each .inp string, written by its
// tests/test-tokenizer-0), plus pieces, special tokens, invalid UTF-8 and hostile metadata.
#include "pare/llm/tokenizer.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <span>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "io/io_test_util.hpp"
#include "pare/io/gguf.hpp"
#include "pare/llm/detail/unicode.hpp"

namespace {

using pare::io::GgufArray;
using pare::io::GgufFile;
using pare::io::GgufMetadata;
using pare::llm::Tokenizer;

std::filesystem::path vocab_path(const std::string& name) {
  return std::filesystem::path(PARE_TEST_DATA_DIR) / "llm" / "vocab" / name;
}

std::string read_all(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  REQUIRE(f);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

// The .inp/.out pairs, split as llama.cpp's test-tokenizer-0 reads them.
std::vector<std::pair<std::string, std::vector<std::int32_t>>> vectors(const std::string& vocab) {
  const std::string inp = read_all(vocab_path(vocab + ".inp"));
  const std::string sep = "\n__ggml_vocab_test__\n";
  std::vector<std::string> texts;
  for (std::size_t pos = 0; pos < inp.size();) {
    const std::size_t next = inp.find(sep, pos);
    if (next == std::string::npos) {
      texts.push_back(inp.substr(pos));
      break;
    }
    texts.push_back(inp.substr(pos, next - pos));
    pos = next + sep.size();
  }
  std::istringstream out(read_all(vocab_path(vocab + ".out")));
  std::vector<std::pair<std::string, std::vector<std::int32_t>>> tests;
  std::string line;
  for (std::size_t i = 0; std::getline(out, line); ++i) {
    REQUIRE(i < texts.size());
    std::istringstream ids(line);
    std::vector<std::int32_t> v;
    for (std::int32_t id; ids >> id;) v.push_back(id);
    tests.emplace_back(texts[i], std::move(v));
  }
  REQUIRE(tests.size() == texts.size());
  return tests;
}

const Tokenizer& spm() {
  static const Tokenizer t =
      Tokenizer::from_gguf(GgufFile::open(vocab_path("ggml-vocab-llama-spm.gguf")));
  return t;
}
const Tokenizer& gpt2() {
  static const Tokenizer t =
      Tokenizer::from_gguf(GgufFile::open(vocab_path("ggml-vocab-gpt-2.gguf")));
  return t;
}

// Whether llama.cpp's clean-up of spaces (clean_spaces, on for GPT-2) alters `s`: a space
// before ? ! . , or before an apostrophe contraction, or an apostrophe between spaces.
bool clean_spaces_touches(const std::string& s) {
  for (const char* p : {" ?", " !", " .", " ,", " ' ", " 's", " 'm", " 're", " 've"})
    if (s.find(p) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST_CASE("tokenizer: llama SPM vocabulary gives llama.cpp's ids for its test strings",
          "[llm][tokenizer]") {
  const Tokenizer& t = spm();
  CHECK(t.kind() == Tokenizer::Kind::spm);
  CHECK(t.size() == 32000);
  const auto tests = vectors("ggml-vocab-llama-spm.gguf");
  CHECK(tests.size() >= 30);
  for (const auto& [text, ids] : tests) {
    INFO("text: '" << text << "'");
    CHECK(t.encode(text, false, false) == ids);
    // The space prefix added before encoding is dropped again from the first piece.
    CHECK(t.decode(ids) == text);
  }
}

TEST_CASE("tokenizer: llama SPM vocabulary agrees with SentencePiece on random text",
          "[llm][tokenizer]") {
  // 300 strings of words, runs of spaces and newlines, with the ids Google's SentencePiece gives
  // them (tests/data/llm/vocab/make_spm_ids.py): long inputs check the chunked merging too.
  const Tokenizer& t = spm();
  const auto tests = vectors("spm-random");
  CHECK(tests.size() == 300);
  for (const auto& [text, ids] : tests) {
    INFO("text: '" << text << "'");
    CHECK(t.encode(text, false, false) == ids);
  }
}

TEST_CASE("tokenizer: GPT-2 vocabulary gives llama.cpp's ids for its test strings",
          "[llm][tokenizer]") {
  const Tokenizer& t = gpt2();
  CHECK(t.kind() == Tokenizer::Kind::bpe);
  CHECK(t.size() == 50257);
  const auto tests = vectors("ggml-vocab-gpt-2.gguf");
  CHECK(tests.size() >= 30);
  int round_trips = 0;
  for (const auto& [text, ids] : tests) {
    INFO("text: '" << text << "'");
    CHECK(t.encode(text, false, false) == ids);
    if (!clean_spaces_touches(text)) {
      CHECK(t.decode(ids) == text);
      ++round_trips;
    }
  }
  CHECK(round_trips >= 25);
}

TEST_CASE("tokenizer: special ids, pieces and end of generation", "[llm][tokenizer]") {
  const Tokenizer& s = spm();
  CHECK(s.bos() == 1);
  CHECK(s.eos() == 2);
  CHECK(s.adds_bos());
  CHECK_FALSE(s.adds_eos());
  CHECK(s.is_end_of_generation(2));
  CHECK_FALSE(s.is_end_of_generation(1));
  CHECK(s.token_text(13) == "<0x0A>");
  CHECK(s.token_to_piece(13) == "\n");            // byte token
  CHECK(s.token_text(278) == "\xe2\x96\x81the");  // "▁the"
  CHECK(s.token_to_piece(278) == " the");
  CHECK(s.token_to_piece(1) == "<s>");  // control: its text
  CHECK(s.find_token("\xe2\x96\x81the") == 278);
  CHECK(s.find_token("no such token") == -1);
  CHECK_THROWS_AS(s.token_to_piece(32000), pare::ArgumentError);
  CHECK_THROWS_AS(s.token_to_piece(-1), pare::ArgumentError);
  const std::vector<std::int32_t> bad{1, 32000};
  CHECK_THROWS_AS(s.decode(bad), pare::ArgumentError);

  // add_special puts BOS first; decode keeps what llama.cpp prints for it.
  const auto ids = s.encode("Hello world");
  REQUIRE(ids.size() == 3);
  CHECK(ids[0] == 1);
  CHECK(s.decode(ids) == "<s> Hello world");

  const Tokenizer& g = gpt2();
  CHECK(g.bos() == 50256);
  CHECK(g.eos() == 50256);
  CHECK_FALSE(g.adds_bos());
  CHECK(g.is_end_of_generation(50256));
  CHECK(g.token_text(262) == "\xc4\xa0the");  // "Ġthe"
  CHECK(g.token_to_piece(262) == " the");
  CHECK(g.token_to_piece(50256) == "<|endoftext|>");
  CHECK(g.encode("Hello world") == g.encode("Hello world", false));
}

TEST_CASE("tokenizer: control tokens in the text only with parse_special", "[llm][tokenizer]") {
  const Tokenizer& s = spm();
  const auto plain = s.encode("<s>Hi", false, false);
  const auto parsed = s.encode("<s>Hi", false, true);
  REQUIRE_FALSE(parsed.empty());
  CHECK(parsed[0] == 1);
  CHECK(std::find(plain.begin(), plain.end(), 1) == plain.end());
  // After a special token the text gets the space prefix again, as in llama.cpp.
  CHECK(std::vector<std::int32_t>(parsed.begin() + 1, parsed.end()) == s.encode("Hi", false));

  const Tokenizer& g = gpt2();
  const auto gp = g.encode("a<|endoftext|>b", false, true);
  CHECK(gp == std::vector<std::int32_t>{64, 50256, 65});
  const auto gn = g.encode("a<|endoftext|>b", false, false);
  CHECK(std::find(gn.begin(), gn.end(), 50256) == gn.end());
}

TEST_CASE("tokenizer: invalid UTF-8 and arbitrary bytes", "[llm][tokenizer]") {
  std::mt19937 rng(7);
  for (int rep = 0; rep < 50; ++rep) {
    std::string bytes(static_cast<std::size_t>(rng() % 64), '\0');
    for (auto& c : bytes) c = static_cast<char>(rng() & 0xFF);
    // SPM falls back to byte tokens, so every byte string survives the round trip (bar the
    // space prefix's effect on a leading U+2581-looking byte run, which random bytes avoid).
    const auto ids = spm().encode(bytes, false, false);
    const std::string back = spm().decode(ids);
    if (bytes.find(' ') == std::string::npos && bytes.find("\xe2\x96\x81") == std::string::npos)
      CHECK(back == bytes);
    (void)gpt2().decode(gpt2().encode(bytes, true, true));
  }
  // A lone continuation byte: SPM gives its byte token; GPT-2 reads U+FFFD ("\xef\xbf\xbd").
  CHECK(spm().encode("\x80", false) == std::vector<std::int32_t>{29871, 3 + 0x80});  // "▁", <0x80>
  CHECK(gpt2().decode(gpt2().encode("\x80", false)) == "\xef\xbf\xbd");
}

TEST_CASE("tokenizer: a megabyte of text encodes quickly", "[llm][tokenizer]") {
  std::string text;
  const auto tests = vectors("ggml-vocab-llama-spm.gguf");
  while (text.size() < (1u << 20))
    for (const auto& [s, ids] : tests) text += s + "\n";
  for (const Tokenizer* t : {&spm(), &gpt2()}) {
    const auto t0 = std::chrono::steady_clock::now();
    const auto ids = t->encode(text, false);
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    INFO("encode of " << text.size() << " bytes: " << secs << " s, " << ids.size() << " tokens");
    CHECK(ids.size() > text.size() / 8);
    // Under a second optimized; the sanitizer build at -O0 is about 20 times slower.
    CHECK(secs < (PARE_FULL_SWEEP ? 1.0 : 30.0));
  }
}

namespace {

// Writes `md` to a GGUF file without tensors and reads a tokenizer from it.
Tokenizer load(const GgufMetadata& md) {
  pare_test::TempDir dir;
  const auto path = dir / "tok.gguf";
  pare::io::write_gguf(path, md, std::span<const pare::io::GgufWriteTensor>{});
  return Tokenizer::from_gguf(GgufFile::open(path));
}

GgufMetadata small_spm() {
  std::vector<std::string> toks{"<unk>",
                                "<s>",
                                "</s>",
                                "\xe2\x96\x81",
                                "a",
                                "b",
                                "\xe2\x96\x81"
                                "a"};
  return GgufMetadata{
      {"tokenizer.ggml.model", "llama"},
      {"tokenizer.ggml.tokens", GgufArray(toks)},
      {"tokenizer.ggml.scores", GgufArray(std::vector<float>{0, 0, 0, -1, -2, -3, -0.5f})},
      {"tokenizer.ggml.token_type", GgufArray(std::vector<std::int32_t>{2, 3, 3, 1, 1, 1, 1})},
  };
}

GgufMetadata small_bpe() {
  std::vector<std::string> toks{"a", "b", "ab", "\xc4\xa0", "<|endoftext|>"};
  return GgufMetadata{
      {"tokenizer.ggml.model", "gpt2"},
      {"tokenizer.ggml.pre", "gpt-2"},
      {"tokenizer.ggml.tokens", GgufArray(toks)},
      {"tokenizer.ggml.merges", GgufArray(std::vector<std::string>{"a b"})},
      {"tokenizer.ggml.bos_token_id", std::uint32_t{4}},
      {"tokenizer.ggml.eos_token_id", std::uint32_t{4}},
  };
}

}  // namespace

TEST_CASE("tokenizer: small vocabularies built in memory", "[llm][tokenizer]") {
  const Tokenizer s = load(small_spm());
  // "▁a" (score -0.5) beats "▁" + "a"; "b" stays; "c" has no byte token: <unk>.
  CHECK(s.encode("ab c", false) == std::vector<std::int32_t>{6, 5, 3, 0});
  const Tokenizer b = load(small_bpe());
  CHECK(b.encode("ab ab", false) == std::vector<std::int32_t>{2, 3, 2});
  CHECK(b.is_end_of_generation(4));
  // llama 3's pre-tokenizer: BOS added by default, whole words that are tokens taken as they are.
  GgufMetadata md = small_bpe();
  md.set("tokenizer.ggml.pre", "llama-bpe");
  const Tokenizer l = load(md);
  CHECK(l.adds_bos());
  CHECK(l.encode("ab ab") == std::vector<std::int32_t>{4, 2, 3, 2});
  CHECK(l.decode(l.encode("ab ab", false)) == "ab ab");
}

TEST_CASE("tokenizer: hostile metadata is a FormatError or UnsupportedError", "[llm][tokenizer]") {
  const auto with = [](GgufMetadata md, const char* key, pare::io::GgufValue v) {
    md.set(key, std::move(v));
    return md;
  };
  const auto without = [](const GgufMetadata& md, const std::string& key) {
    GgufMetadata out;
    for (const auto& e : md)
      if (e.key != key) out.set(e.key, e.value);
    return out;
  };
  CHECK_NOTHROW(load(small_spm()));
  CHECK_NOTHROW(load(small_bpe()));
  // Lengths disagreeing with the token list.
  CHECK_THROWS_AS(
      load(with(small_spm(), "tokenizer.ggml.scores", GgufArray(std::vector<float>{0, 0}))),
      pare::FormatError);
  CHECK_THROWS_AS(
      load(with(small_spm(), "tokenizer.ggml.token_type", GgufArray(std::vector<std::int32_t>{1}))),
      pare::FormatError);
  CHECK_THROWS_AS(load(with(small_spm(), "tokenizer.ggml.scores",
                            GgufArray(std::vector<float>{0, 0, 0, 0, 0, 0, std::nanf("")}))),
                  pare::FormatError);
  // Token types outside 0..6, wrong value types.
  CHECK_THROWS_AS(load(with(small_spm(), "tokenizer.ggml.token_type",
                            GgufArray(std::vector<std::int32_t>{1, 1, 1, 1, 1, 1, 99}))),
                  pare::FormatError);
  CHECK_THROWS_AS(load(with(small_spm(), "tokenizer.ggml.scores",
                            GgufArray(std::vector<std::int32_t>{0, 0, 0, 0, 0, 0, 0}))),
                  pare::FormatError);
  CHECK_THROWS_AS(load(with(small_spm(), "tokenizer.ggml.model", std::uint32_t{1})),
                  pare::FormatError);
  // Special ids outside the vocabulary.
  CHECK_THROWS_AS(load(with(small_spm(), "tokenizer.ggml.bos_token_id", std::uint32_t{7})),
                  pare::FormatError);
  CHECK_THROWS_AS(load(with(small_bpe(), "tokenizer.ggml.eos_token_id", std::uint32_t{1u << 31})),
                  pare::FormatError);
  CHECK_THROWS_AS(load(with(small_spm(), "tokenizer.ggml.bos_token_id", std::int32_t{1})),
                  pare::FormatError);
  // No tokens, an empty list, duplicates, a token of more than 64 KiB.
  CHECK_THROWS_AS(load(without(small_spm(), "tokenizer.ggml.tokens")), pare::FormatError);
  CHECK_THROWS_AS(load(without(small_spm(), "tokenizer.ggml.model")), pare::FormatError);
  CHECK_THROWS_AS(
      load(GgufMetadata{{"tokenizer.ggml.model", "gpt2"},
                        {"tokenizer.ggml.pre", "gpt-2"},
                        {"tokenizer.ggml.tokens", GgufArray(std::vector<std::string>{})},
                        {"tokenizer.ggml.merges", GgufArray(std::vector<std::string>{})}}),
      pare::FormatError);
  CHECK_THROWS_AS(load(with(small_bpe(), "tokenizer.ggml.tokens",
                            GgufArray(std::vector<std::string>{"a", "b", "ab", "a", "x"}))),
                  pare::FormatError);
  CHECK_THROWS_AS(
      load(with(small_bpe(), "tokenizer.ggml.tokens",
                GgufArray(std::vector<std::string>{"a", "b", "ab", std::string(70000, 'x'), "y"}))),
      pare::FormatError);
  // Merges: missing, not "left right", naming unknown tokens.
  CHECK_THROWS_AS(load(without(small_bpe(), "tokenizer.ggml.merges")), pare::FormatError);
  CHECK_THROWS_AS(
      load(with(small_bpe(), "tokenizer.ggml.merges", GgufArray(std::vector<std::string>{"ab"}))),
      pare::FormatError);
  CHECK_THROWS_AS(
      load(with(small_bpe(), "tokenizer.ggml.merges", GgufArray(std::vector<std::string>{"a zz"}))),
      pare::FormatError);
  // A byte-typed token that is not <0xXX>.
  CHECK_THROWS_AS(load(with(small_spm(), "tokenizer.ggml.token_type",
                            GgufArray(std::vector<std::int32_t>{2, 3, 3, 1, 6, 1, 1}))),
                  pare::FormatError);
  // Models and pre-tokenizers pare does not run are refused, not approximated.
  for (const char* model : {"bert", "t5", "rwkv", "no_vocab", "something-new"})
    CHECK_THROWS_AS(load(with(small_spm(), "tokenizer.ggml.model", model)), pare::UnsupportedError);
  for (const char* pre : {"default", "qwen2", "deepseek-llm", "tekken", "unheard-of"})
    CHECK_THROWS_AS(load(with(small_bpe(), "tokenizer.ggml.pre", pre)), pare::UnsupportedError);
  CHECK_THROWS_AS(load(without(small_bpe(), "tokenizer.ggml.pre")), pare::UnsupportedError);
}

namespace {

std::string unhex(const std::string& h) {
  std::string out;
  for (std::size_t i = 0; i + 1 < h.size(); i += 2)
    out.push_back(static_cast<char>(std::stoi(h.substr(i, 2), nullptr, 16)));
  return out;
}

// Pieces of `text` as the matcher cuts it.
std::vector<std::string> split_with(
    std::vector<std::size_t> (*split)(const std::vector<std::uint32_t>&), const std::string& text) {
  const auto cpts = pare::llm::detail::decode_utf8(text);
  std::vector<std::string> pieces;
  std::size_t start = 0;
  for (const std::size_t len : split(cpts)) {
    std::string p;
    for (std::size_t i = start; i < start + len; ++i) pare::llm::detail::append_utf8(p, cpts[i]);
    pieces.push_back(std::move(p));
    start += len;
  }
  CHECK(start == cpts.size());
  return pieces;
}

}  // namespace

TEST_CASE("tokenizer: pre-tokenizer splits match the original regexes", "[llm][tokenizer]") {
  // Expected pieces from Python's `regex` module running GPT-2's and llama 3's regexes
  // (tests/data/llm/vocab/make_splits.py).
  for (const auto& [name, split] : {std::pair{"gpt2", &pare::llm::detail::split_gpt2},
                                    std::pair{"llama3", &pare::llm::detail::split_llama3}}) {
    std::istringstream lines(read_all(vocab_path(std::string(name) + "-splits.txt")));
    int n = 0;
    for (std::string line; std::getline(lines, line); ++n) {
      std::vector<std::string> expected;
      std::istringstream hexes(line);
      for (std::string h; hexes >> h;) expected.push_back(unhex(h));
      std::string text;
      for (const auto& p : expected) text += p;
      INFO(name << " line " << n + 1 << ": '" << text << "'");
      CHECK(split_with(split, text) == expected);
    }
    CHECK(n >= 50);
  }
}
