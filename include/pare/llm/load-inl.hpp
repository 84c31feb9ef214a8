// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "pare/core/config.hpp"
#include "pare/core/error.hpp"
#include "pare/core/float16.hpp"
#include "pare/core/json.hpp"
#include "pare/io/gguf.hpp"
#include "pare/io/safetensors.hpp"
#include "pare/llm/load.hpp"

namespace pare::llm {

namespace detail {

using ::pare::detail::concat;

[[nodiscard]] inline std::string shape_text(const std::vector<std::size_t>& s) {
  std::string t = "[";
  for (std::size_t i = 0; i < s.size(); ++i) t += (i ? ", " : "") + std::to_string(s[i]);
  return t + "]";
}

[[nodiscard]] inline bool is_four_bit(WeightFormat f) noexcept {
  return f == WeightFormat::q4g16 || f == WeightFormat::q4g32 || f == WeightFormat::nf4 ||
         f == WeightFormat::q4_0;
}

[[nodiscard]] inline std::optional<WeightFormat> output_format(const LoadOptions& o) {
  if (o.output_format) return o.output_format;
  if (o.format && is_four_bit(*o.format)) return WeightFormat::int8;
  return o.format;
}

/// A float weight into the format the options ask for (the user's quantizer first).
[[nodiscard]] inline LinearWeight linear_from_floats(std::string_view name, Tensor<float, 2> w,
                                                     const LoadOptions& o, bool is_output) {
  if (o.quantizer && !is_output) {
    LinearWeight mine = o.quantizer(name, w.view());
    if (mine) {
      PARE_CHECK(mine.rows() == w.extent(0) && mine.cols() == w.extent(1), ShapeError,
                 "load_llama: the quantizer gave a [", mine.rows(), ", ", mine.cols(),
                 "] weight for '", name, "' of shape ", to_string(w.extents()));
      return mine;
    }
  }
  const std::optional<WeightFormat> f = is_output ? output_format(o) : o.format;
  if (!f || *f == WeightFormat::f32) return DenseWeight(std::move(w));
  return quantize_linear(w.view(), *f);
}

/// An unsigned integer metadata value of any integer type; nullopt when absent.
[[nodiscard]] inline std::optional<std::uint64_t> gguf_uint(const io::GgufFile& f,
                                                            std::string_view key) {
  const io::GgufValue* v = f.metadata().find(key);
  if (v == nullptr) return std::nullopt;
  if (const auto* p = v->get_if<std::uint32_t>()) return *p;
  if (const auto* p = v->get_if<std::uint64_t>()) return *p;
  if (const auto* p = v->get_if<std::uint16_t>()) return *p;
  if (const auto* p = v->get_if<std::uint8_t>()) return *p;
  if (const auto* p = v->get_if<std::int32_t>(); p && *p >= 0)
    return static_cast<std::uint64_t>(*p);
  if (const auto* p = v->get_if<std::int64_t>(); p && *p >= 0)
    return static_cast<std::uint64_t>(*p);
  throw FormatError(f.file().name(), std::string(key), 0,
                    "expected a non-negative integer, found " + io::name(v->type()));
}

[[nodiscard]] inline std::uint64_t gguf_required_uint(const io::GgufFile& f, std::string_view key) {
  auto v = gguf_uint(f, key);
  if (!v) throw FormatError(f.file().name(), std::string(key), 0, "missing: a llama GGUF needs it");
  return *v;
}

[[nodiscard]] inline std::optional<float> gguf_float(const io::GgufFile& f, std::string_view key) {
  const io::GgufValue* v = f.metadata().find(key);
  if (v == nullptr) return std::nullopt;
  if (const auto* p = v->get_if<float>()) return *p;
  if (const auto* p = v->get_if<double>()) return static_cast<float>(*p);
  throw FormatError(f.file().name(), std::string(key), 0,
                    "expected a float, found " + io::name(v->type()));
}

[[nodiscard]] inline std::size_t checked_size(std::uint64_t v, const std::string& file,
                                              std::string_view key) {
  if (v > (std::uint64_t{1} << 40))
    throw FormatError(file, std::string(key), 0, concat("value ", v, " is too large"));
  return static_cast<std::size_t>(v);
}

/// The info of a tensor that must exist with exactly `shape` (pare order: outermost first).
inline const io::GgufTensorInfo& gguf_tensor(const io::GgufFile& f, const std::string& name,
                                             std::vector<std::size_t> shape) {
  if (!f.contains(name))
    throw FormatError(f.file().name(), name, 0, "tensor missing: a llama GGUF needs it");
  const io::GgufTensorInfo& i = f.info(name);
  // ggml drops trailing unit dimensions of 1-d norms written as [n]; compare element layouts.
  if (i.shape != shape)
    throw FormatError(f.file().name(), name, i.info_offset,
                      concat("tensor has shape ", shape_text(i.shape),
                             ", the model's config needs ", shape_text(shape)));
  return i;
}

[[nodiscard]] inline Tensor<float, 1> gguf_vector(const io::GgufFile& f, const std::string& name,
                                                  std::size_t n) {
  (void)gguf_tensor(f, name, {n});
  return f.dequantize<1>(name);
}

}  // namespace detail

PARE_INLINE LlamaConfig gguf_llama_config(const io::GgufFile& f) {
  using namespace detail;
  const std::string& file = f.file().name();
  const auto arch = f.metadata().get_or<std::string>("general.architecture", "");
  if (arch != "llama")
    throw UnsupportedError(concat(file, ": general.architecture is '", arch,
                                  "'; pare's decoder runs llama-architecture models only"));
  LlamaConfig c;
  c.hidden = checked_size(gguf_required_uint(f, "llama.embedding_length"), file, "hidden");
  c.layers = checked_size(gguf_required_uint(f, "llama.block_count"), file, "layers");
  c.ffn = checked_size(gguf_required_uint(f, "llama.feed_forward_length"), file, "ffn");
  c.heads = checked_size(gguf_required_uint(f, "llama.attention.head_count"), file, "heads");
  c.kv_heads = checked_size(gguf_uint(f, "llama.attention.head_count_kv").value_or(c.heads), file,
                            "kv heads");
  c.context = checked_size(gguf_uint(f, "llama.context_length").value_or(2048), file, "context");
  c.rms_eps = gguf_float(f, "llama.attention.layer_norm_rms_epsilon").value_or(1e-5f);
  c.rope_theta = gguf_float(f, "llama.rope.freq_base").value_or(10000.0f);
  c.rope = RopeLayout::interleaved;
  if (f.contains("token_embd.weight")) {
    const auto& e = f.info("token_embd.weight");
    if (e.shape.size() == 2) c.vocab_size = e.shape[0];
  }
  if (auto v = gguf_uint(f, "llama.vocab_size")) {
    if (c.vocab_size != 0 && *v != c.vocab_size)
      throw FormatError(file, "llama.vocab_size", 0,
                        concat("says ", *v, " but token_embd.weight has ", c.vocab_size, " rows"));
    c.vocab_size = checked_size(*v, file, "vocab");
  }
  if (c.heads != 0 && c.hidden % c.heads == 0)
    if (auto rd = gguf_uint(f, "llama.rope.dimension_count"); rd && *rd != c.hidden / c.heads)
      throw UnsupportedError(concat(file, ": llama.rope.dimension_count ", *rd,
                                    " rotates part of each head of ", c.hidden / c.heads,
                                    " values; pare rotates whole heads"));
  if (const auto* s = f.metadata().find("llama.rope.scaling.type"))
    if (const auto* t = s->get_if<std::string>(); t == nullptr || *t != "none")
      throw UnsupportedError(file + ": rope scaling (llama.rope.scaling.type) is not supported");
  if (f.contains("rope_freqs.weight"))
    throw UnsupportedError(file + ": rope_freqs.weight (Llama 3.1 rope scaling) is not supported");
  try {
    c.validate();
  } catch (const ArgumentError& e) {
    throw FormatError(file, "llama.*", 0, e.what());
  }
  return c;
}

PARE_INLINE LlamaModel load_llama_gguf(const io::GgufFile& f, const LoadOptions& o) {
  using namespace detail;
  LlamaConfig c = gguf_llama_config(f);
  if (o.context)
    c.context = o.context;
  else
    c.context = std::min<std::size_t>(c.context, 4096);
  c.validate();
  const std::size_t h = c.hidden, kv = c.kv_width(), ff = c.ffn;

  auto linear = [&](const std::string& name, std::size_t rows, std::size_t cols, bool is_output) {
    const io::GgufTensorInfo& i = gguf_tensor(f, name, {rows, cols});
    // Q8_0 and Q4_0 run as stored unless another format or the user's quantizer is asked for.
    const std::optional<WeightFormat> want = is_output ? output_format(o) : o.format;
    const bool users = o.quantizer && !is_output;
    if (!users && i.type == io::GgmlType::q8_0 && (!want || *want == WeightFormat::q8_0))
      return LinearWeight(
          GgmlWeight<GgmlQ8_0Matrix>(GgmlQ8_0Matrix::from_gguf_bytes(f.raw(name), rows, cols)));
    if (!users && i.type == io::GgmlType::q4_0 && (!want || *want == WeightFormat::q4_0))
      return LinearWeight(
          GgmlWeight<GgmlQ4_0Matrix>(GgmlQ4_0Matrix::from_gguf_bytes(f.raw(name), rows, cols)));
    return linear_from_floats(name, f.dequantize(name), o, is_output);
  };

  // Layers that share their input and are stored as the same Q8_0/Q4_0 type run as one matrix
  // (their rows stacked: the same bits), so a decode step makes one kernel call, not three.
  auto stacked = [&](std::initializer_list<std::string> names,
                     std::initializer_list<std::size_t> rows, std::size_t cols) -> LinearWeight {
    if (o.format || o.quantizer) return {};
    std::optional<io::GgmlType> type;
    std::size_t total = 0, bytes = 0;
    auto r = rows.begin();
    for (const auto& name : names) {
      const io::GgufTensorInfo& i = gguf_tensor(f, name, {*r++, cols});
      if (type && *type != i.type) return {};
      type = i.type;
      total += i.rows();
      bytes += static_cast<std::size_t>(i.byte_size);
    }
    if (type != io::GgmlType::q8_0 && type != io::GgmlType::q4_0) return {};
    std::vector<std::byte> all;
    all.reserve(bytes);
    for (const auto& name : names) {
      const auto raw = f.raw(name);
      all.insert(all.end(), raw.begin(), raw.end());
    }
    if (type == io::GgmlType::q8_0)
      return GgmlWeight<GgmlQ8_0Matrix>(GgmlQ8_0Matrix::from_gguf_bytes(all, total, cols));
    return GgmlWeight<GgmlQ4_0Matrix>(GgmlQ4_0Matrix::from_gguf_bytes(all, total, cols));
  };

  // The embedding is decoded a row at a time from the map: a 32000 x 4096 table stays on disk.
  const io::GgufTensorInfo& emb = gguf_tensor(f, "token_embd.weight", {c.vocab_size, h});
  const auto tinfo = io::ggml_type_info(emb.type);
  if (!tinfo || !tinfo->dequantizable)
    throw UnsupportedError(concat(f.file().name(),
                                  ": token_embd.weight is of a type pare cannot "
                                  "decode"));
  const std::size_t row_bytes = h / tinfo->block_size * tinfo->type_size;
  const std::byte* base = f.file().bytes().data() + emb.file_offset;
  Embedding embedding(
      c.vocab_size, h,
      [keep = f.keep_alive(), base, row_bytes, type = emb.type, h](std::size_t r, float* out) {
        io::detail::gguf_dequantize_unchecked(type, base + r * row_bytes, out, h);
      },
      static_cast<std::size_t>(emb.byte_size));

  std::vector<LlamaBlock> blocks(c.layers);
  for (std::size_t b = 0; b < c.layers; ++b) {
    const std::string p = concat("blk.", b, ".");
    LlamaBlock& B = blocks[b];
    B.attn_norm = gguf_vector(f, p + "attn_norm.weight", h);
    if (!(B.qkv = stacked({p + "attn_q.weight", p + "attn_k.weight", p + "attn_v.weight"},
                          {h, kv, kv}, h))) {
      B.q = linear(p + "attn_q.weight", h, h, false);
      B.k = linear(p + "attn_k.weight", kv, h, false);
      B.v = linear(p + "attn_v.weight", kv, h, false);
    }
    B.o = linear(p + "attn_output.weight", h, h, false);
    B.ffn_norm = gguf_vector(f, p + "ffn_norm.weight", h);
    if (!(B.gate_up = stacked({p + "ffn_gate.weight", p + "ffn_up.weight"}, {ff, ff}, h))) {
      B.gate = linear(p + "ffn_gate.weight", ff, h, false);
      B.up = linear(p + "ffn_up.weight", ff, h, false);
    }
    B.down = linear(p + "ffn_down.weight", h, ff, false);
  }
  Tensor<float, 1> norm = gguf_vector(f, "output_norm.weight", h);
  LinearWeight output = f.contains("output.weight")
                            ? linear("output.weight", c.vocab_size, h, true)
                            : linear("token_embd.weight", c.vocab_size, h, true);
  return LlamaModel(c, std::move(embedding), std::move(blocks), std::move(norm), std::move(output));
}

PARE_INLINE LlamaConfig hf_llama_config(std::string_view text, std::string_view source) {
  using namespace detail;
  const Json j = Json::parse(text, {.source = source});
  const std::string src(source);
  auto fail = [&](std::string_view key, const std::string& why) -> FormatError {
    return FormatError(src, std::string(key), 0, why);
  };
  if (!j.is_object()) throw fail("", "config.json is not a JSON object");
  const Json* mt = j.find("model_type");
  if (mt == nullptr || !mt->is_string() || mt->as_string() != "llama")
    throw UnsupportedError(concat(src, ": model_type is ",
                                  mt && mt->is_string() ? "'" + mt->as_string() + "'" : "missing",
                                  "; pare's decoder runs llama models only"));
  auto size = [&](std::string_view key, std::optional<std::size_t> fallback) -> std::size_t {
    const Json* v = j.find(key);
    if (v == nullptr || v->is_null()) {
      if (fallback) return *fallback;
      throw fail(key, "missing: a llama config needs it");
    }
    if (!v->is_uint64()) throw fail(key, "expected a non-negative integer");
    return checked_size(v->as_uint64(), src, key);
  };
  auto number = [&](std::string_view key, double fallback) -> float {
    const Json* v = j.find(key);
    if (v == nullptr || v->is_null()) return static_cast<float>(fallback);
    if (!v->is_number()) throw fail(key, "expected a number");
    return static_cast<float>(v->as_double());
  };
  LlamaConfig c;
  c.hidden = size("hidden_size", std::nullopt);
  c.ffn = size("intermediate_size", std::nullopt);
  c.layers = size("num_hidden_layers", std::nullopt);
  c.heads = size("num_attention_heads", std::nullopt);
  c.kv_heads = size("num_key_value_heads", c.heads);
  c.vocab_size = size("vocab_size", std::nullopt);
  c.context = size("max_position_embeddings", std::size_t{2048});
  c.rms_eps = number("rms_norm_eps", 1e-6);
  c.rope_theta = number("rope_theta", 10000.0);
  c.rope = RopeLayout::halves;
  if (const Json* hd = j.find("head_dim"); hd && !hd->is_null())
    PARE_CHECK(c.heads != 0 && hd->is_uint64() && hd->as_uint64() * c.heads == c.hidden,
               UnsupportedError, src, ": head_dim other than hidden_size / num_attention_heads");
  if (const Json* rs = j.find("rope_scaling"); rs && !rs->is_null())
    throw UnsupportedError(src + ": rope_scaling is not supported");
  for (const char* key : {"attention_bias", "mlp_bias"})
    if (const Json* b = j.find(key); b && b->is_bool() && b->as_bool())
      throw UnsupportedError(concat(src, ": ", key, " = true is not supported"));
  if (const Json* act = j.find("hidden_act");
      act && (!act->is_string() || act->as_string() != "silu"))
    throw UnsupportedError(src + ": hidden_act other than silu is not supported");
  try {
    c.validate();
  } catch (const ArgumentError& e) {
    throw FormatError(src, "config", 0, e.what());
  }
  return c;
}

namespace detail {}  // namespace detail

PARE_INLINE std::string read_text_file(const std::filesystem::path& p, std::size_t limit) {
  std::ifstream in(p, std::ios::binary);
  PARE_CHECK(in.good(), Error, "cannot open ", p.string());
  std::string s;
  char buf[65536];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    s.append(buf, static_cast<std::size_t>(in.gcount()));
    if (s.size() > limit)
      throw FormatError(
          p.string(), "", 0,
          ::pare::detail::concat("larger than ", limit, " bytes, the limit for this file"));
  }
  return s;
}

namespace detail {

/// A safetensors tensor of a float dtype as f32 (copied).
[[nodiscard]] inline Tensor<float, 2> safetensors_floats(const io::SafetensorsFile& f,
                                                         const std::string& name, std::size_t rows,
                                                         std::size_t cols) {
  const io::SafetensorsInfo& i = f.info(name);
  std::vector<std::size_t> want =
      rows == 0 ? std::vector<std::size_t>{cols} : std::vector<std::size_t>{rows, cols};
  if (i.shape != want)
    throw FormatError(
        f.file().name(), name, i.offset,
        concat("tensor has shape ", shape_text(i.shape), ", the config needs ", shape_text(want)));
  Tensor<float, 2> out({rows ? rows : 1, cols});
  const std::size_t n = out.size();
  const std::byte* p = i.bytes.data();
  switch (i.dtype) {
    case DType::f32:
      std::memcpy(out.data(), p, n * 4);
      break;
    case DType::f16:
      for (std::size_t k = 0; k < n; ++k) {
        std::uint16_t b;
        std::memcpy(&b, p + 2 * k, 2);
        out.data()[k] = static_cast<float>(f16::from_bits(b));
      }
      break;
    case DType::bf16:
      for (std::size_t k = 0; k < n; ++k) {
        std::uint16_t b;
        std::memcpy(&b, p + 2 * k, 2);
        out.data()[k] = static_cast<float>(bf16::from_bits(b));
      }
      break;
    default:
      throw UnsupportedError(concat(f.file().name(), ": tensor '", name, "' is ",
                                    ::pare::name(i.dtype),
                                    "; pare loads F32, F16 and BF16 weights"));
  }
  return out;
}

/// A Hugging Face folder opened for reading: its config, whether the embeddings are tied, and
/// the mapped shard that holds each tensor (the pointers keep the maps alive).
struct HfCheckpoint {
  LlamaConfig config;
  bool tied = false;
  std::map<std::string, std::shared_ptr<io::SafetensorsFile>, std::less<>> where;
};

/// Reads dir's config.json once and maps model.safetensors, or every shard named by
/// model.safetensors.index.json (each once), with `hint`. FormatError for a malformed index or
/// a shard name that is not a plain file name in the folder.
[[nodiscard]] inline HfCheckpoint open_hf_checkpoint(const std::filesystem::path& dir,
                                                     io::AccessHint hint) {
  HfCheckpoint ck;
  const std::filesystem::path cfg = dir / "config.json";
  const std::string text = read_text_file(cfg);
  ck.config = hf_llama_config(text, cfg.string());
  const Json j = Json::parse(text, {.source = cfg.string()});
  if (const Json* t = j.find("tie_word_embeddings"); t && t->is_bool()) ck.tied = t->as_bool();
  auto open = [hint](const std::filesystem::path& p) {
    return std::make_shared<io::SafetensorsFile>(io::MappedFile::open(p, hint));
  };
  const std::filesystem::path index = dir / "model.safetensors.index.json";
  if (!std::filesystem::exists(index)) {
    auto s = open(dir / "model.safetensors");
    for (const auto& n : s->names()) ck.where[n] = s;
    return ck;
  }
  const Json idx = Json::parse(read_text_file(index), {.source = index.string()});
  const Json* map = idx.find("weight_map");
  if (map == nullptr || !map->is_object())
    throw FormatError(index.string(), "weight_map", 0, "missing or not an object");
  std::map<std::string, std::shared_ptr<io::SafetensorsFile>, std::less<>> shards;
  for (const auto& m : map->as_object()) {
    if (!m.value.is_string())
      throw FormatError(index.string(), m.key, 0, "shard name is not a string");
    const std::string& shard = m.value.as_string();
    if (shard.empty() || shard == "." || shard == ".." || shard.find('/') != std::string::npos ||
        shard.find('\\') != std::string::npos)
      throw FormatError(index.string(), m.key, 0,
                        concat("shard '", shard, "' is not a file name in the folder"));
    auto& s = shards[shard];
    if (!s) s = open(dir / shard);
    ck.where[m.key] = s;
  }
  return ck;
}

}  // namespace detail

PARE_INLINE LlamaModel load_llama_hf(const std::filesystem::path& folder, const LoadOptions& o) {
  using namespace detail;
  const std::filesystem::path dir =
      std::filesystem::is_directory(folder) ? folder : folder.parent_path();
  HfCheckpoint ck = open_hf_checkpoint(dir, io::AccessHint::normal);
  LlamaConfig& c = ck.config;
  if (o.context)
    c.context = o.context;
  else
    c.context = std::min<std::size_t>(c.context, 4096);
  const bool tied = ck.tied;
  const auto& where = ck.where;
  auto file_of = [&](const std::string& name) -> const io::SafetensorsFile& {
    auto it = where.find(name);
    if (it == where.end() || !it->second->contains(name))
      throw FormatError(dir.string(), name, 0, "tensor missing: a llama checkpoint needs it");
    return *it->second;
  };
  auto matrix = [&](const std::string& name, std::size_t rows, std::size_t cols) {
    return safetensors_floats(file_of(name), name, rows, cols);
  };
  auto vec = [&](const std::string& name, std::size_t n) {
    Tensor<float, 2> m = safetensors_floats(file_of(name), name, 0, n);
    Tensor<float, 1> v({n});
    std::copy(m.data(), m.data() + n, v.data());
    return v;
  };
  const std::size_t h = c.hidden, kv = c.kv_width(), ff = c.ffn;
  auto linear = [&](const std::string& name, std::size_t rows, std::size_t cols, bool out) {
    return linear_from_floats(name, matrix(name, rows, cols), o, out);
  };
  Tensor<float, 2> emb = matrix("model.embed_tokens.weight", c.vocab_size, h);
  std::vector<LlamaBlock> blocks(c.layers);
  for (std::size_t b = 0; b < c.layers; ++b) {
    const std::string p = concat("model.layers.", b, ".");
    LlamaBlock& B = blocks[b];
    B.attn_norm = vec(p + "input_layernorm.weight", h);
    B.q = linear(p + "self_attn.q_proj.weight", h, h, false);
    B.k = linear(p + "self_attn.k_proj.weight", kv, h, false);
    B.v = linear(p + "self_attn.v_proj.weight", kv, h, false);
    B.o = linear(p + "self_attn.o_proj.weight", h, h, false);
    B.ffn_norm = vec(p + "post_attention_layernorm.weight", h);
    B.gate = linear(p + "mlp.gate_proj.weight", ff, h, false);
    B.up = linear(p + "mlp.up_proj.weight", ff, h, false);
    B.down = linear(p + "mlp.down_proj.weight", h, ff, false);
  }
  Tensor<float, 1> norm = vec("model.norm.weight", h);
  LinearWeight output = (!tied && where.count("lm_head.weight"))
                            ? linear("lm_head.weight", c.vocab_size, h, true)
                            : linear_from_floats("lm_head.weight", Tensor<float, 2>(emb), o, true);
  return LlamaModel(c, Embedding(std::move(emb)), std::move(blocks), std::move(norm),
                    std::move(output));
}

PARE_INLINE LlamaModel load_llama(const std::filesystem::path& path, const LoadOptions& o) {
  if (std::filesystem::is_directory(path) || path.filename() == "config.json")
    return load_llama_hf(path, o);
  return load_llama_gguf(io::GgufFile::open(path), o);
}

}  // namespace pare::llm
