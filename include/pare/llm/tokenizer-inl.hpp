// SPDX-License-Identifier: Apache-2.0
// pare — definitions for llm/tokenizer.hpp: compiled once into pare::compiled, or included by the
// header in header-only builds. The algorithms follow llama.cpp's src/llama-vocab.cpp step for
// step (including its tie-breaking), because the ids must be the ones llama.cpp's models saw.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <queue>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pare/core/config.hpp"
#include "pare/core/error.hpp"
#include "pare/io/gguf.hpp"
#include "pare/llm/detail/unicode.hpp"
#include "pare/llm/tokenizer.hpp"

namespace pare::llm {

namespace tokenizer_detail {

inline constexpr std::size_t max_token_bytes = 65536;

[[nodiscard]] inline std::uint64_t key_offset(const io::GgufMetadata& md, std::string_view key) {
  for (const auto& e : md)
    if (e.key == key) return e.offset;
  return 0;
}

[[noreturn]] inline void fail(std::string_view source, const io::GgufMetadata& md,
                              std::string_view key, const std::string& what) {
  throw FormatError(std::string(source), std::string(key), key_offset(md, key), what);
}

[[nodiscard]] inline bool ascii_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

inline void replace_all(std::string& s, std::string_view from, std::string_view to) {
  std::string out;
  out.reserve(s.size());
  std::size_t pos = 0;
  for (std::size_t hit; (hit = s.find(from, pos)) != std::string::npos; pos = hit + from.size()) {
    out.append(s, pos, hit - pos);
    out.append(to);
  }
  out.append(s, pos, std::string::npos);
  s = std::move(out);
}

inline constexpr std::string_view space_marker = "\xe2\x96\x81";  // U+2581, SentencePiece's space

// llama.cpp's llama_decode_text: each character of a byte-level token stands for one byte.
[[nodiscard]] inline std::string decode_byte_level(const std::string& text) {
  std::string out;
  std::size_t off = 0;
  while (off < text.size()) {
    const std::uint32_t cpt = detail::decode_utf8(text, off);
    const int b = detail::cpt_to_byte(cpt);
    if (b >= 0) {
      out.push_back(static_cast<char>(static_cast<std::uint8_t>(b)));
    } else {
      std::string utf8;
      detail::append_utf8(utf8, cpt);
      out += "[UNK_BYTE_0x";
      constexpr char hex[] = "0123456789abcdef";
      for (char c : utf8) {
        const auto u = static_cast<std::uint8_t>(c);
        out.push_back(hex[u >> 4]);
        out.push_back(hex[u & 15]);
      }
      out += text + "]";
    }
  }
  return out;
}

struct Symbol {
  int prev;
  int next;
  const char* text;
  std::size_t n;
};

struct SpmBigram {
  int left;
  int right;
  float score;
  std::size_t size;
};
struct SpmBigramLess {
  bool operator()(const SpmBigram& l, const SpmBigram& r) const noexcept {
    return l.score < r.score || (l.score == r.score && l.left > r.left);
  }
};

struct BpeBigram {
  int left;
  int right;
  int rank;
  std::size_t size;
};
struct BpeBigramLess {
  bool operator()(const BpeBigram& l, const BpeBigram& r) const noexcept {
    return l.rank > r.rank || (l.rank == r.rank && l.left > r.left);
  }
};

[[nodiscard]] inline std::uint64_t merge_key(std::int32_t left, std::int32_t right) noexcept {
  return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(left)) << 32) |
         static_cast<std::uint32_t>(right);
}

}  // namespace tokenizer_detail

PARE_INLINE Tokenizer Tokenizer::from_gguf(const io::GgufFile& file) {
  return from_metadata(file.metadata(), file.file().name());
}

PARE_INLINE Tokenizer Tokenizer::from_metadata(const io::GgufMetadata& md,
                                               std::string_view source) {
  using tokenizer_detail::fail;
  using tokenizer_detail::max_token_bytes;
  const std::string k_model = "tokenizer.ggml.model";
  const std::string k_tokens = "tokenizer.ggml.tokens";
  const std::string k_scores = "tokenizer.ggml.scores";
  const std::string k_types = "tokenizer.ggml.token_type";
  const std::string k_merges = "tokenizer.ggml.merges";
  const std::string k_pre = "tokenizer.ggml.pre";

  Tokenizer t;
  if (!md.contains(k_model)) fail(source, md, k_model, "no tokenizer model in the metadata");
  const auto model = md.get<std::string>(k_model);
  if (model == "llama") {
    t.kind_ = Kind::spm;
    t.bos_ = 1;
    t.eos_ = 2;
    t.unk_ = 0;
    t.add_space_prefix_ = true;
    t.add_bos_ = true;
  } else if (model == "gpt2") {
    t.kind_ = Kind::bpe;
    t.bos_ = 11;
    t.eos_ = 11;
    t.clean_spaces_ = true;
    const std::string pre = md.get_or<std::string>(k_pre, "");
    // Only pre-tokenizer names whose split, flags and special tokens are those of the two
    // implemented regexes; any other would tokenize differently from the model's training.
    if (pre == "gpt-2" || pre == "phi-2" || pre == "roberta-bpe" || pre == "mpt" || pre == "olmo" ||
        pre == "jais") {
      t.pre_ = Pre::gpt2;
    } else if (pre == "llama3" || pre == "llama-v3" || pre == "llama-bpe" || pre == "falcon3") {
      t.pre_ = Pre::llama3;
      t.ignore_merges_ = true;
      t.add_bos_ = true;
    } else if (pre == "dbrx" || pre == "smaug-bpe") {
      t.pre_ = Pre::llama3;
    } else {
      throw UnsupportedError(::pare::detail::concat(
          source, ": tokenizer pre-tokenizer '", pre.empty() ? std::string("(none: default)") : pre,
          "' is not implemented (pare runs gpt-2 and llama-bpe style BPE)"));
    }
  } else {
    throw UnsupportedError(::pare::detail::concat(source, ": tokenizer model '", model,
                                                  "' is not implemented (pare runs llama, gpt2)"));
  }
  t.add_space_prefix_ = md.get_or<bool>("tokenizer.ggml.add_space_prefix", t.add_space_prefix_);

  if (!md.contains(k_tokens)) fail(source, md, k_tokens, "no token list in the metadata");
  const auto texts = md.get_array<std::string>(k_tokens);
  if (texts.empty()) fail(source, md, k_tokens, "the token list is empty");
  if (texts.size() > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max()))
    fail(source, md, k_tokens, "more tokens than int32 ids");
  const std::size_t n = texts.size();
  std::vector<float> scores;
  if (md.contains(k_scores)) {
    scores = md.get_array<float>(k_scores);
    if (scores.size() != n)
      fail(source, md, k_scores,
           ::pare::detail::concat(scores.size(), " scores for ", n, " tokens"));
  }
  std::vector<std::int32_t> types;
  if (md.contains(k_types)) {
    types = md.get_array<std::int32_t>(k_types);
    if (types.size() != n)
      fail(source, md, k_types,
           ::pare::detail::concat(types.size(), " token types for ", n, " tokens"));
  }

  t.tokens_.resize(n);
  t.ids_.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    Token& tok = t.tokens_[i];
    tok.text = texts[i].empty() ? "[EMPTY_" + std::to_string(i) + "]" : texts[i];
    if (tok.text.size() > max_token_bytes)
      fail(source, md, k_tokens,
           ::pare::detail::concat("token ", i, " is ", tok.text.size(), " bytes long"));
    tok.score = scores.empty() ? 0.0f : scores[i];
    // The merge queue orders by score; NaN would break its ordering.
    if (!std::isfinite(tok.score))
      fail(source, md, k_scores, ::pare::detail::concat("token ", i, " has a non-finite score"));
    if (!types.empty()) {
      static constexpr std::uint8_t attr_of_type[7] = {
          attr_undefined,    attr_normal, attr_unknown, attr_control,
          attr_user_defined, attr_unused, attr_byte};
      if (types[i] < 0 || types[i] > 6)
        fail(source, md, k_types,
             ::pare::detail::concat("token ", i, " has type ", types[i], " (known: 0..6)"));
      tok.attr = attr_of_type[types[i]];
    }
    if (!t.ids_.emplace(tok.text, static_cast<std::int32_t>(i)).second)
      fail(source, md, k_tokens,
           ::pare::detail::concat("token ", i, " '", tok.text, "' is a duplicate"));
  }

  if (t.kind_ == Kind::bpe) {
    if (!md.contains(k_merges)) fail(source, md, k_merges, "a gpt2 tokenizer needs merges");
    const auto merges = md.get_array<std::string>(k_merges);
    t.merges_.reserve(merges.size());
    for (std::size_t i = 0; i < merges.size(); ++i) {
      const std::string& m = merges[i];
      const std::size_t pos = m.size() > 1 ? m.find(' ', 1) : std::string::npos;
      if (m.size() > max_token_bytes || pos == std::string::npos)
        fail(source, md, k_merges, ::pare::detail::concat("merge ", i, " is not 'left right'"));
      const std::string_view left = std::string_view(m).substr(0, pos);
      const std::string_view right = std::string_view(m).substr(pos + 1);
      if (t.lookup(left) < 0 || t.lookup(right) < 0)
        fail(source, md, k_merges,
             ::pare::detail::concat("merge ", i, " '", m, "' names a token not in the vocabulary"));
      if (i > static_cast<std::size_t>(std::numeric_limits<int>::max()))
        fail(source, md, k_merges, "more merges than int ranks");
      // The first of duplicate merges keeps its rank, as in llama.cpp's bpe_ranks.emplace.
      t.merges_.emplace(tokenizer_detail::merge_key(t.lookup(left), t.lookup(right)),
                        static_cast<std::int32_t>(i));
    }
  }

  // Special ids: an id in the metadata must name a token; a default that does not fit a small
  // vocabulary means "none".
  const auto special = [&](const char* key, std::int32_t& id) {
    if (md.contains(key)) {
      const auto v = md.get<std::uint32_t>(key);
      if (v >= n)
        fail(source, md, key, ::pare::detail::concat("token id ", v, " is not below ", n));
      id = static_cast<std::int32_t>(v);
    } else if (id >= static_cast<std::int64_t>(n)) {
      id = -1;
    }
  };
  std::int32_t pad = -1, sep = -1;
  special("tokenizer.ggml.bos_token_id", t.bos_);
  special("tokenizer.ggml.eos_token_id", t.eos_);
  special("tokenizer.ggml.eot_token_id", t.eot_);
  special("tokenizer.ggml.eom_token_id", t.eom_);
  special("tokenizer.ggml.unknown_token_id", t.unk_);
  special("tokenizer.ggml.padding_token_id", pad);
  special("tokenizer.ggml.seperator_token_id", sep);
  t.add_bos_ = md.get_or<bool>("tokenizer.ggml.add_bos_token", t.add_bos_);
  t.add_eos_ = md.get_or<bool>("tokenizer.ggml.add_eos_token", t.add_eos_);
  if (t.add_bos_ && t.bos_ < 0)
    fail(source, md, "tokenizer.ggml.add_bos_token", "BOS is to be added but there is none");
  if (t.add_eos_ && t.eos_ < 0)
    fail(source, md, "tokenizer.ggml.add_eos_token", "EOS is to be added but there is none");

  // Tokens llama.cpp recognises by their text: they become control tokens (so they are matched
  // only with parse_special and printed verbatim) and some end generation.
  const auto by_text = [&](std::initializer_list<std::string_view> names) {
    std::int32_t found = -1;
    for (std::string_view name : names) {
      const std::int32_t id = t.lookup(name);
      if (id >= 0 && (found < 0 || id < found)) found = id;
    }
    return found;
  };
  const auto make_control = [&](std::int32_t id) {
    if (id >= 0 && !(t.tokens_[static_cast<std::size_t>(id)].attr & attr_control))
      t.tokens_[static_cast<std::size_t>(id)].attr = attr_control;
  };
  if (t.eot_ < 0) {
    t.eot_ =
        by_text({"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<EOT>",
                 "<\xef\xbd\x9c"
                 "end\xe2\x96\x81of\xe2\x96\x81sentence\xef\xbd\x9c>"});
    make_control(t.eot_);
  }
  if (t.eom_ < 0) {
    t.eom_ = by_text({"<|eom_id|>"});
    make_control(t.eom_);
  }
  for (auto names : {std::initializer_list<std::string_view>{"<|fim_prefix|>", "<fim-prefix>",
                                                             "<\xef\xbd\x9c"
                                                             "fim\xe2\x96\x81"
                                                             "begin\xef\xbd\x9c>",
                                                             "<PRE>"},
                     std::initializer_list<std::string_view>{"<|fim_suffix|>", "<fim-suffix>",
                                                             "<\xef\xbd\x9c"
                                                             "fim\xe2\x96\x81"
                                                             "hole\xef\xbd\x9c>",
                                                             "<SUF>"},
                     std::initializer_list<std::string_view>{"<|fim_middle|>", "<fim-middle>",
                                                             "<\xef\xbd\x9c"
                                                             "fim\xe2\x96\x81"
                                                             "end\xef\xbd\x9c>",
                                                             "<MID>"}})
    make_control(by_text(names));
  const std::int32_t fim_pad = by_text({"<|fim_pad|>", "<fim-pad>", "<PAD>"});
  const std::int32_t fim_rep = by_text({"<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>"});
  const std::int32_t fim_sep = by_text({"<|file_sep|>"});
  for (std::int32_t id : {fim_pad, fim_rep, fim_sep}) {
    make_control(id);
    if (id >= 0) t.end_of_generation_.push_back(id);
  }
  for (std::string_view name : {"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>",
                                "<|endoftext|>", "<|eom_id|>", "<EOT>"}) {
    const std::int32_t id = t.lookup(name);
    make_control(id);
    if (id >= 0) t.end_of_generation_.push_back(id);
  }
  for (std::int32_t id : {t.eos_, t.eot_, t.eom_})
    if (id >= 0) t.end_of_generation_.push_back(id);
  std::sort(t.end_of_generation_.begin(), t.end_of_generation_.end());
  t.end_of_generation_.erase(std::unique(t.end_of_generation_.begin(), t.end_of_generation_.end()),
                             t.end_of_generation_.end());

  for (std::size_t i = 0; i < n; ++i)
    if (t.tokens_[i].attr & (attr_control | attr_user_defined | attr_unknown))
      t.specials_.push_back(static_cast<std::int32_t>(i));
  std::stable_sort(t.specials_.begin(), t.specials_.end(), [&](std::int32_t a, std::int32_t b) {
    return t.tokens_[static_cast<std::size_t>(a)].text.size() >
           t.tokens_[static_cast<std::size_t>(b)].text.size();
  });

  // Phi-3's special tokens swallow the whitespace after them (llama.cpp sets this by model name).
  std::string name = md.get_or<std::string>("general.name", "");
  std::transform(name.begin(), name.end(), name.begin(), [](char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  });
  if (name.find("phi-3") != std::string::npos || name.find("phi3") != std::string::npos) {
    const auto set = [&](std::int32_t id, bool on) {
      if (id < 0) return;
      auto& a = t.tokens_[static_cast<std::size_t>(id)].attr;
      a = static_cast<std::uint8_t>(on ? (a | attr_rstrip) : (a & ~attr_rstrip));
    };
    for (std::int32_t id : t.specials_) set(id, true);
    set(t.lookup("</s>"), true);
    for (std::string_view s : {"<unk>", "<s>", "<|endoftext|>"}) set(t.lookup(s), false);
  }

  if (t.kind_ == Kind::spm) {
    constexpr char hex[] = "0123456789ABCDEF";
    for (int b = 0; b < 256; ++b) {
      const char buf[6] = {'<', '0', 'x', hex[b >> 4], hex[b & 15], '>'};
      std::int32_t id = t.lookup(std::string_view(buf, 6));
      const char one = static_cast<char>(b);
      if (id < 0) id = t.lookup(std::string_view(&one, 1));
      t.byte_tokens_[b] = id;
    }
    for (std::size_t i = 0; i < n; ++i) {
      const std::string& s = t.tokens_[i].text;
      const auto is_hex = [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f');
      };
      if ((t.tokens_[i].attr & attr_byte) && !(s.size() == 6 && s.compare(0, 3, "<0x") == 0 &&
                                               is_hex(s[3]) && is_hex(s[4]) && s[5] == '>'))
        fail(source, md, k_types,
             ::pare::detail::concat("byte token ", i, " '", s, "' is not <0xXX>"));
    }
  }

  for (const Token& tok : t.tokens_)
    t.max_token_bytes_ = std::max(t.max_token_bytes_, tok.text.size());
  if (t.kind_ == Kind::spm) {
    // Text may be cut before a "▁" that follows another character when no token has a "▁"
    // after its leading run of them (true of SentencePiece vocabularies, which only prefix
    // words with the space marker).
    t.spm_split_at_space_ = true;
    const std::string_view marker = tokenizer_detail::space_marker;
    for (const Token& tok : t.tokens_) {
      std::string_view rest = tok.text;
      while (rest.substr(0, marker.size()) == marker) rest.remove_prefix(marker.size());
      if (rest.find(marker) != std::string_view::npos) {
        t.spm_split_at_space_ = false;
        break;
      }
    }
  }

  t.pieces_.reserve(n);
  for (std::size_t i = 0; i < n; ++i)
    t.pieces_.push_back(t.make_piece(static_cast<std::int32_t>(i)));
  return t;
}

PARE_INLINE std::string Tokenizer::make_piece(std::int32_t id) const {
  const Token& tok = tokens_[static_cast<std::size_t>(id)];
  if (tok.attr & (attr_unknown | attr_control | attr_user_defined)) return tok.text;
  if (kind_ == Kind::spm) {
    if (tok.attr & attr_normal) {
      std::string s = tok.text;
      tokenizer_detail::replace_all(s, tokenizer_detail::space_marker, " ");
      return s;
    }
    if (tok.attr & attr_byte) {
      const auto nibble = [](char c) {
        return c <= '9' ? c - '0' : (c >= 'a' ? c - 'a' + 10 : c - 'A' + 10);
      };
      return std::string(1, static_cast<char>(nibble(tok.text[3]) * 16 + nibble(tok.text[4])));
    }
    return {};
  }
  if (tok.attr & attr_normal) return tokenizer_detail::decode_byte_level(tok.text);
  return {};
}

PARE_INLINE std::int32_t Tokenizer::lookup(std::string_view text) const {
  const auto it = ids_.find(text);
  return it == ids_.end() ? -1 : it->second;
}

PARE_INLINE std::int32_t Tokenizer::find_token(std::string_view text) const { return lookup(text); }

PARE_INLINE void Tokenizer::check_id(std::int32_t id, const char* fn) const {
  PARE_CHECK(id >= 0 && static_cast<std::size_t>(id) < tokens_.size(), ArgumentError,
             "Tokenizer::", fn, ": token id ", id, " is outside the vocabulary of ",
             tokens_.size());
}

PARE_INLINE const std::string& Tokenizer::token_text(std::int32_t id) const {
  check_id(id, "token_text");
  return tokens_[static_cast<std::size_t>(id)].text;
}

PARE_INLINE std::string Tokenizer::token_to_piece(std::int32_t id) const {
  check_id(id, "token_to_piece");
  return pieces_[static_cast<std::size_t>(id)];
}

PARE_INLINE bool Tokenizer::is_end_of_generation(std::int32_t id) const noexcept {
  return std::binary_search(end_of_generation_.begin(), end_of_generation_.end(), id);
}

PARE_INLINE std::vector<Tokenizer::Fragment> Tokenizer::partition(std::string_view text,
                                                                  bool parse_special) const {
  std::vector<Fragment> frags;
  if (text.empty()) return frags;
  frags.push_back({0, text.size(), -1});
  std::vector<Fragment> next;
  for (const std::int32_t id : specials_) {
    const Token& tok = tokens_[static_cast<std::size_t>(id)];
    if (!parse_special && (tok.attr & (attr_control | attr_unknown))) continue;
    const std::string_view s = tok.text;
    next.clear();
    for (const Fragment& f : frags) {
      if (f.token >= 0) {
        next.push_back(f);
        continue;
      }
      std::size_t off = f.offset, len = f.length;
      while (true) {
        const std::size_t hit = text.substr(off, len).find(s);
        if (hit == std::string_view::npos) {
          if (len > 0) next.push_back({off, len, -1});
          break;
        }
        // (llama.cpp also strips spaces left of lstrip tokens; only jina's <mask> has that.)
        if (hit > 0) next.push_back({off, hit, -1});
        next.push_back({0, 0, id});
        std::size_t roff = off + hit + s.size();
        std::size_t rlen = len - hit - s.size();
        if (tok.attr & attr_rstrip) {
          while (rlen > 0 && tokenizer_detail::ascii_space(text[roff])) {
            ++roff;
            --rlen;
          }
        }
        off = roff;
        len = rlen;
      }
    }
    frags.swap(next);
  }
  return frags;
}

PARE_INLINE std::vector<std::int32_t> Tokenizer::encode(std::string_view utf8, bool add_special,
                                                        bool parse_special) const {
  std::vector<std::int32_t> out;
  const std::vector<Fragment> frags = partition(utf8, parse_special);
  if (add_special && add_bos_) out.push_back(bos_);
  if (kind_ == Kind::spm) {
    bool prev_special = true;  // the first text gets the space prefix too
    for (const Fragment& f : frags) {
      if (f.token >= 0) {
        out.push_back(f.token);
        prev_special = true;
        continue;
      }
      std::string text;
      if (add_space_prefix_ && prev_special) text = " ";
      text.append(utf8.substr(f.offset, f.length));
      tokenizer_detail::replace_all(text, " ", tokenizer_detail::space_marker);
      encode_spm(text, out);
      prev_special = false;
    }
  } else {
    for (const Fragment& f : frags) {
      if (f.token >= 0)
        out.push_back(f.token);
      else
        encode_bpe(utf8.substr(f.offset, f.length), out);
    }
  }
  if (add_special && add_eos_) out.push_back(eos_);
  return out;
}

PARE_INLINE void Tokenizer::encode_spm(std::string_view text,
                                       std::vector<std::int32_t>& out) const {
  using tokenizer_detail::SpmBigram;
  using tokenizer_detail::Symbol;
  if (text.empty()) return;
  PARE_CHECK(text.size() < static_cast<std::size_t>(std::numeric_limits<int>::max()), ArgumentError,
             "Tokenizer::encode: text of ", text.size(), " bytes is too long");
  std::vector<Symbol> symbols;
  symbols.reserve(text.size());
  for (std::size_t off = 0; off < text.size();) {
    const std::size_t len = std::min(detail::utf8_len(text[off]), text.size() - off);
    const int index = static_cast<int>(symbols.size());
    symbols.push_back(
        {index - 1, off + len == text.size() ? -1 : index + 1, text.data() + off, len});
    off += len;
  }
  // Chunks that no token can span merge independently, and merges in different chunks never
  // change each other's order (the queue orders by score, then position), so each chunk gets
  // its own small queue: the same result as llama.cpp's single queue over the whole text,
  // without a heap of a million pairs that misses the cache on every operation.
  std::vector<int> starts{0};
  if (spm_split_at_space_) {
    const std::string_view marker = tokenizer_detail::space_marker;
    const auto is_marker = [&](const Symbol& x) { return std::string_view(x.text, x.n) == marker; };
    for (std::size_t i = 1; i < symbols.size(); ++i) {
      if (is_marker(symbols[i]) && !is_marker(symbols[i - 1])) {
        symbols[i - 1].next = -1;
        symbols[i].prev = -1;
        starts.push_back(static_cast<int>(i));
      }
    }
  }
  starts.push_back(static_cast<int>(symbols.size()));
  std::vector<SpmBigram> heap;
  const tokenizer_detail::SpmBigramLess less;
  const auto try_add = [&](int left, int right) {
    if (left == -1 || right == -1) return;
    const auto& l = symbols[static_cast<std::size_t>(left)];
    const auto& r = symbols[static_cast<std::size_t>(right)];
    const std::string_view s(l.text, l.n + r.n);
    if (s.size() > max_token_bytes_) return;
    const std::int32_t id = lookup(s);
    if (id < 0) return;
    heap.push_back({left, right, tokens_[static_cast<std::size_t>(id)].score, s.size()});
    std::push_heap(heap.begin(), heap.end(), less);
  };
  for (std::size_t c = 0; c + 1 < starts.size(); ++c) {
    heap.clear();
    for (int i = starts[c] + 1; i < starts[c + 1]; ++i) try_add(i - 1, i);
    while (!heap.empty()) {
      std::pop_heap(heap.begin(), heap.end(), less);
      const SpmBigram b = heap.back();
      heap.pop_back();
      auto& l = symbols[static_cast<std::size_t>(b.left)];
      auto& r = symbols[static_cast<std::size_t>(b.right)];
      if (l.n == 0 || r.n == 0 || l.n + r.n != b.size) continue;
      l.n += r.n;
      r.n = 0;
      l.next = r.next;
      if (r.next >= 0) symbols[static_cast<std::size_t>(r.next)].prev = b.left;
      try_add(l.prev, b.left);
      try_add(b.left, l.next);
    }
  }
  // A symbol that is not a token was never merged (every merge forms a token), so llama.cpp's
  // resegment() finds no merge to undo (its rev_merge holds only tokens) and falls back to bytes.
  for (std::size_t chunk = 0; chunk + 1 < starts.size(); ++chunk)
    for (int i = starts[chunk]; i != -1; i = symbols[static_cast<std::size_t>(i)].next) {
      const Symbol& sym = symbols[static_cast<std::size_t>(i)];
      const std::string_view s(sym.text, sym.n);
      if (const std::int32_t id = lookup(s); id >= 0) {
        out.push_back(id);
        continue;
      }
      for (const char c : s) {
        std::int32_t id = byte_tokens_[static_cast<std::uint8_t>(c)];
        if (id < 0) id = unk_;
        PARE_CHECK(id >= 0, UnsupportedError, "Tokenizer::encode: the vocabulary has no token for ",
                   "byte ", static_cast<int>(static_cast<std::uint8_t>(c)),
                   " and no unknown token");
        out.push_back(id);
      }
    }
}

PARE_INLINE void Tokenizer::encode_bpe(std::string_view text,
                                       std::vector<std::int32_t>& out) const {
  const std::vector<std::uint32_t> cpts = detail::decode_utf8(text);
  const std::vector<std::size_t> pieces =
      pre_ == Pre::llama3 ? detail::split_llama3(cpts) : detail::split_gpt2(cpts);
  std::size_t start = 0;
  std::string utf8, word;
  for (const std::size_t len : pieces) {
    utf8.clear();
    for (std::size_t i = start; i < start + len; ++i) detail::append_utf8(utf8, cpts[i]);
    start += len;
    word.clear();
    for (const char c : utf8)
      detail::append_utf8(word, detail::byte_to_cpt(static_cast<std::uint8_t>(c)));
    bpe_word(word, out);
  }
}

PARE_INLINE void Tokenizer::bpe_word(std::string_view word, std::vector<std::int32_t>& out) const {
  using tokenizer_detail::BpeBigram;
  if (ignore_merges_) {
    if (const std::int32_t id = lookup(word); id >= 0) {
      out.push_back(id);
      return;
    }
  }
  PARE_CHECK(word.size() < static_cast<std::size_t>(std::numeric_limits<int>::max()), ArgumentError,
             "Tokenizer::encode: a word of ", word.size(), " bytes is too long");
  // llama.cpp looks merges up by the two texts; every merge names two tokens (checked at load),
  // so looking them up by the two token ids finds the same ranks.
  struct Sym {
    int prev;
    int next;
    std::size_t offset;
    std::size_t n;
    std::int32_t id;
  };
  std::vector<Sym> symbols;
  for (std::size_t off = 0; off < word.size();) {
    const std::size_t len = std::min(detail::utf8_len(word[off]), word.size() - off);
    const int index = static_cast<int>(symbols.size());
    symbols.push_back({index - 1, off + len == word.size() ? -1 : index + 1, off, len,
                       lookup(word.substr(off, len))});
    off += len;
  }
  std::vector<BpeBigram> heap;
  const tokenizer_detail::BpeBigramLess less;
  const auto add = [&](int left, int right) {
    if (left == -1 || right == -1) return;
    const Sym& l = symbols[static_cast<std::size_t>(left)];
    const Sym& r = symbols[static_cast<std::size_t>(right)];
    if (l.id < 0 || r.id < 0) return;
    const auto it = merges_.find(tokenizer_detail::merge_key(l.id, r.id));
    if (it == merges_.end()) return;
    heap.push_back({left, right, it->second, l.n + r.n});
    std::push_heap(heap.begin(), heap.end(), less);
  };
  for (int i = 1; i < static_cast<int>(symbols.size()); ++i) add(i - 1, i);
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), less);
    const BpeBigram b = heap.back();
    heap.pop_back();
    Sym& l = symbols[static_cast<std::size_t>(b.left)];
    Sym& r = symbols[static_cast<std::size_t>(b.right)];
    // Outdated when either side has grown since the pair was queued (symbols only grow, so
    // equal total length means both are as they were: llama.cpp compares the texts).
    if (l.n == 0 || r.n == 0 || l.n + r.n != b.size) continue;
    l.n += r.n;
    r.n = 0;
    l.id = lookup(word.substr(l.offset, l.n));
    l.next = r.next;
    if (r.next >= 0) symbols[static_cast<std::size_t>(r.next)].prev = b.left;
    add(l.prev, b.left);
    add(b.left, l.next);
  }
  for (const Sym& sym : symbols) {
    if (sym.n == 0) continue;
    if (sym.id >= 0) {
      out.push_back(sym.id);
      continue;
    }
    // llama.cpp's fallback: each byte of the unmerged piece, if it is a token by itself.
    for (const char c : word.substr(sym.offset, sym.n))
      if (const std::int32_t id = lookup(std::string_view(&c, 1)); id >= 0) out.push_back(id);
  }
}

PARE_INLINE std::string Tokenizer::decode(std::span<const std::int32_t> ids) const {
  std::string text;
  bool remove_space = add_space_prefix_;
  for (const std::int32_t id : ids) {
    check_id(id, "decode");
    const std::string& piece = pieces_[static_cast<std::size_t>(id)];
    if (remove_space && !piece.empty() && piece[0] == ' ')
      text.append(piece, 1, std::string::npos);
    else
      text.append(piece);
    remove_space = false;
  }
  if (!clean_spaces_ || text.empty()) return text;
  // llama.cpp's three in-place passes, reproduced index for index (each reads characters the
  // previous iterations may already have overwritten).
  std::string& s = text;
  std::size_t total1 = s.size(), total = 1;
  for (std::size_t i = 1; i < total1; ++i) {
    const char x = s[i];
    if (s[i - 1] == ' ' && (x == '?' || x == '!' || x == '.' || x == ','))
      --total;  // " ?", " !", " .", " ,"
    s[total++] = x;
  }
  const std::size_t total2 = total;
  total = total2 ? 1 : 0;
  for (std::size_t i = 1; i < total2; ++i) {
    const char x = s[i];
    if (x == '\'' && i + 1 < total2 && s[i - 1] == ' ' && s[i + 1] == ' ') {  // " ' "
      --total;
      s[++i] = '\0';
    }
    s[total++] = x;
  }
  const std::size_t total3 = total;
  total = total3 ? 1 : 0;
  for (std::size_t i = 1; i < total3; ++i) {
    const char x = s[i];
    if (s[i - 1] == ' ' && x == '\'' && i + 1 < total3) {
      const char x1 = s[i + 1];
      if (x1 == 's' || x1 == 'm') {  // " 's", " 'm"
        --total;
      } else if (x1 != 't' && x1 != 'd' && i + 2 < total3) {
        const char x2 = s[i + 2];
        if ((x1 == 'r' && x2 == 'e') || (x1 == 'v' && x2 == 'e')) --total;  // " 're", " 've"
      }
    }
    s[total++] = x;
  }
  s.resize(total);
  return text;
}

}  // namespace pare::llm
