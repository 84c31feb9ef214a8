// SPDX-License-Identifier: Apache-2.0
// pare — the tokenizer a GGUF file carries in its metadata, as llama.cpp writes and runs it:
// SentencePiece-style BPE over scores with byte fallback (tokenizer.ggml.model "llama") and
// byte-level BPE with merges (tokenizer.ggml.model "gpt2", pre-tokenizers "gpt-2" and "llama-bpe"
// (llama 3) and their aliases).
//
//     #include "pare/io/gguf.hpp"
//     auto f = pare::io::GgufFile::open("model.gguf");
//     auto tok = pare::llm::Tokenizer::from_gguf(f);
//     std::vector<std::int32_t> ids = tok.encode("Hello world");   // with BOS if the model adds it
//     std::string text = tok.decode(ids);
//
// Ids and pieces are llama.cpp's (llama_tokenize / llama_token_to_piece / llama_detokenize with
// special tokens rendered): the tests check llama.cpp's own vocabulary test vectors.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace pare::io {
class GgufFile;
class GgufMetadata;
}  // namespace pare::io

namespace pare::llm {

class Tokenizer {
 public:
  enum class Kind { spm, bpe };

  /// Reads `tokenizer.ggml.*` from the file's metadata. FormatError (naming the file and key) for
  /// malformed or hostile metadata: no or empty token list, scores / token types whose length
  /// differs from the token list, non-finite scores, duplicate tokens, token types outside 0..6,
  /// special-token ids outside the vocabulary, merges that are not "left right" over known tokens,
  /// tokens or merges longer than 64 KiB. UnsupportedError for a tokenizer model other than "llama"
  /// / "gpt2" and for a pre-tokenizer pare does not implement (rather than split text differently).
  [[nodiscard]] static Tokenizer from_gguf(const io::GgufFile& file);
  /// As from_gguf, from metadata alone; `source` names it in error messages.
  [[nodiscard]] static Tokenizer from_metadata(const io::GgufMetadata& metadata,
                                               std::string_view source = "metadata");

  /// Token ids of `utf8`, as llama_tokenize gives them: BOS / EOS added when `add_special` and the
  /// model asks for them (tokenizer.ggml.add_bos_token / add_eos_token); control and unknown
  /// tokens written in the text are recognised only when `parse_special` (user-defined tokens
  /// always are). Invalid UTF-8 never fails: SPM falls back to byte tokens, BPE reads each bad
  /// byte as U+FFFD as llama.cpp does. Linear-logarithmic in the text length.
  [[nodiscard]] std::vector<std::int32_t> encode(std::string_view utf8, bool add_special = true,
                                                 bool parse_special = false) const;

  /// The text of `ids`, as llama_detokenize gives it with special tokens rendered: the pieces
  /// joined, the leading space of the first piece dropped when the model adds a space prefix,
  /// and (for the BPE pre-tokenizers that ask for it) spaces before punctuation and contractions
  /// cleaned the way llama.cpp does. ArgumentError for an id outside the vocabulary.
  [[nodiscard]] std::string decode(std::span<const std::int32_t> ids) const;

  /// The bytes token `id` stands for, as llama.cpp prints it (common_token_to_piece): control,
  /// unknown and user-defined tokens as their text, byte tokens <0xXX> as the byte, "▁" as a
  /// space (SPM), byte-level characters as their bytes (BPE); unused tokens as "".
  /// ArgumentError for an id outside the vocabulary.
  [[nodiscard]] std::string token_to_piece(std::int32_t id) const;

  /// The text of token `id` as stored in the vocabulary. ArgumentError when out of range.
  [[nodiscard]] const std::string& token_text(std::int32_t id) const;
  /// The id of the token whose stored text is `text`, or -1.
  [[nodiscard]] std::int32_t find_token(std::string_view text) const;

  /// Beginning-of-sequence id, or -1 when the model has none.
  [[nodiscard]] std::int32_t bos() const noexcept { return bos_; }
  /// End-of-sequence id, or -1 when the model has none.
  [[nodiscard]] std::int32_t eos() const noexcept { return eos_; }
  /// End-of-turn id (tokenizer.ggml.eot_token_id, or a token such as <|eot_id|>), or -1.
  [[nodiscard]] std::int32_t eot() const noexcept { return eot_; }
  /// Whether encode(..., add_special = true) starts with bos() / ends with eos().
  [[nodiscard]] bool adds_bos() const noexcept { return add_bos_; }
  [[nodiscard]] bool adds_eos() const noexcept { return add_eos_; }
  /// Number of tokens in the vocabulary; ids are 0 .. size() - 1.
  [[nodiscard]] std::size_t size() const noexcept { return tokens_.size(); }
  /// Whether generation stops at `id`: eos, eot, eom and the tokens llama.cpp treats as
  /// end-of-generation by their text (<|eot_id|>, <|im_end|>, <|endoftext|>, ...).
  [[nodiscard]] bool is_end_of_generation(std::int32_t id) const noexcept;
  [[nodiscard]] Kind kind() const noexcept { return kind_; }

 private:
  // llama.cpp's token attributes (bit flags).
  enum Attr : std::uint8_t {
    attr_undefined = 0,
    attr_unknown = 1,
    attr_unused = 2,
    attr_normal = 4,
    attr_control = 8,
    attr_user_defined = 16,
    attr_byte = 32,
    attr_rstrip = 64,
  };
  enum class Pre : std::uint8_t { none, gpt2, llama3 };

  struct Token {
    std::string text;
    float score = 0.0f;
    std::uint8_t attr = attr_normal;
  };

  struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };
  using TokenMap = std::unordered_map<std::string, std::int32_t, StringHash, std::equal_to<>>;

  struct Fragment {
    std::size_t offset = 0;
    std::size_t length = 0;
    std::int32_t token = -1;  ///< >= 0: a special token; else raw text [offset, offset + length)
  };

  Tokenizer() = default;

  [[nodiscard]] std::int32_t lookup(std::string_view text) const;
  [[nodiscard]] std::vector<Fragment> partition(std::string_view text, bool parse_special) const;
  void encode_spm(std::string_view text, std::vector<std::int32_t>& out) const;
  void encode_bpe(std::string_view text, std::vector<std::int32_t>& out) const;
  void bpe_word(std::string_view word, std::vector<std::int32_t>& out) const;
  void check_id(std::int32_t id, const char* fn) const;
  [[nodiscard]] std::string make_piece(std::int32_t id) const;

  Kind kind_ = Kind::spm;
  Pre pre_ = Pre::none;
  std::vector<Token> tokens_;
  std::vector<std::string> pieces_;
  TokenMap ids_;
  std::unordered_map<std::uint64_t, std::int32_t> merges_;  ///< (left id << 32 | right id) -> rank
  std::vector<std::int32_t> specials_;  ///< control / user-defined / unknown, longest first
  std::vector<std::int32_t> end_of_generation_;  ///< sorted
  std::int32_t byte_tokens_[256] = {};
  std::int32_t bos_ = -1, eos_ = -1, eot_ = -1, eom_ = -1, unk_ = -1;
  bool add_bos_ = false, add_eos_ = false, add_space_prefix_ = false, clean_spaces_ = false;
  bool ignore_merges_ = false;
  bool spm_split_at_space_ = false;
  std::size_t max_token_bytes_ = 0;
};

}  // namespace pare::llm

#ifndef PARE_COMPILED_LIB
#include "pare/llm/tokenizer-inl.hpp"
#endif
