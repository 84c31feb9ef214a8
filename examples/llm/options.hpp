// SPDX-License-Identifier: Apache-2.0
// The command-line options the llm_* examples share: model, weight format, threads, tokenizer.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "pare/core/parallel.hpp"
#include "pare/io/gguf.hpp"
#include "pare/llm.hpp"
#ifndef LLM_EXAMPLE_NO_TOKENIZER
#include "pare/llm/tokenizer.hpp"
#endif
#include "pare/simd/dispatch.hpp"

namespace llm_example {

struct Usage : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Arguments after the positional ones: "--name value" pairs.
struct Args {
  std::vector<std::string> positional;
  std::vector<std::pair<std::string, std::string>> named;

  Args(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
      std::string a = argv[i];
      if (a.size() > 1 && a[0] == '-' && !(a[1] >= '0' && a[1] <= '9')) {
        if (i + 1 >= argc) throw Usage("option " + a + " needs a value");
        named.emplace_back(a, argv[++i]);
      } else {
        positional.push_back(a);
      }
    }
  }
  [[nodiscard]] std::optional<std::string> get(
      std::initializer_list<std::string_view> names) const {
    std::optional<std::string> v;
    for (const auto& [k, val] : named)
      for (auto n : names)
        if (k == n) v = val;
    return v;
  }
  [[nodiscard]] std::size_t size(std::initializer_list<std::string_view> names,
                                 std::size_t fallback) const {
    auto v = get(names);
    if (!v) return fallback;
    char* end = nullptr;
    const unsigned long long x = std::strtoull(v->c_str(), &end, 10);
    if (end == v->c_str() || *end != 0) throw Usage("not a number: " + *v);
    return static_cast<std::size_t>(x);
  }
  [[nodiscard]] float number(std::initializer_list<std::string_view> names, float fallback) const {
    auto v = get(names);
    if (!v) return fallback;
    char* end = nullptr;
    const float x = std::strtof(v->c_str(), &end);
    if (end == v->c_str() || *end != 0) throw Usage("not a number: " + *v);
    return x;
  }
  /// Every option given is one of `known`.
  void check(std::initializer_list<std::string_view> known) const {
    for (const auto& [k, v] : named) {
      bool ok = false;
      for (auto n : known) ok = ok || k == n;
      if (!ok) throw Usage("unknown option " + k);
    }
  }
};

/// The model, loaded with --format / --ctx / --threads applied.
inline pare::llm::LlamaModel load_model(const Args& a, const std::filesystem::path& path) {
  if (auto t = a.get({"-t", "--threads"})) pare::set_num_threads(a.size({"-t", "--threads"}, 1));
  pare::llm::LoadOptions o;
  if (auto f = a.get({"--format"}); f && *f != "stored")
    o.format = pare::llm::parse_weight_format(*f);
  o.context = a.size({"-c", "--ctx"}, 0);
  return pare::llm::load_llama(path, o);
}

#ifndef LLM_EXAMPLE_NO_TOKENIZER
/// The tokenizer of a GGUF model, or of the GGUF file --tokenizer names (for a Hugging Face
/// folder, whose tokenizer.json pare does not read).
inline pare::llm::Tokenizer load_tokenizer(const Args& a, const std::filesystem::path& model) {
  std::filesystem::path p = model;
  if (auto t = a.get({"--tokenizer"}))
    p = *t;
  else if (std::filesystem::is_directory(model) || model.filename() == "config.json")
    throw Usage("a Hugging Face folder has no GGUF tokenizer: give --tokenizer FILE.gguf");
  return pare::llm::Tokenizer::from_gguf(pare::io::GgufFile::open(p));
}
#endif

inline void print_model(const pare::llm::LlamaModel& m) {
  const auto& b = m.blocks().front();
  std::fprintf(stderr, "model: %s; %.1f M parameters, %.1f MiB as held; linear %s, output %s\n",
               m.config().describe().c_str(), double(m.parameters()) / 1e6,
               double(m.size_bytes()) / 1048576.0, b.down.format_name().c_str(),
               m.output().format_name().c_str());
  std::fprintf(stderr, "cpu: %s tier, %zu threads\n",
               std::string(pare::simd::tier_name(pare::simd::active_tier())).c_str(),
               pare::num_threads());
}

}  // namespace llm_example
