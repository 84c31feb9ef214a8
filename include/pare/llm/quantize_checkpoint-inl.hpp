// SPDX-License-Identifier: Apache-2.0
// pare — definitions for llm/quantize_checkpoint.hpp: compiled once into pare::compiled, or
// included by the header (core/config.hpp explains the two modes).
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "pare/core/config.hpp"
#include "pare/core/error.hpp"
#include "pare/core/float16.hpp"
#include "pare/core/json.hpp"
#include "pare/core/parallel.hpp"
#include "pare/io/detail/gguf_quants.hpp"
#include "pare/io/detail/little_endian.hpp"
#include "pare/io/gguf.hpp"
#include "pare/io/gguf_stream_writer.hpp"
#include "pare/io/safetensors.hpp"
#include "pare/llm/load-inl.hpp"  // open_hf_checkpoint, shape_text
#include "pare/llm/load.hpp"
#include "pare/llm/quantize_checkpoint.hpp"

namespace pare::llm::detail {

/// One tensor to convert: where its rows are in the input and what it becomes.
struct StreamTensor {
  std::string name;                // output (GGUF) name
  std::vector<std::size_t> shape;  // output shape, row-major
  io::GgmlType out_type = io::GgmlType::f32;
  std::size_t rows = 0, cols = 0;
  std::size_t permute_heads = 0;  // HF Q/K rows to GGUF's adjacent pairs; 0: rows as stored
  const io::MappedFile* file = nullptr;
  std::uint64_t offset = 0;  // file offset of the data
  std::uint64_t bytes = 0;   // input bytes
  std::size_t row_bytes = 0;
  bool gguf = false;  // input rows are ggml blocks of `in_type`
  io::GgmlType in_type = io::GgmlType::f32;
  DType dtype = DType::f32;  // safetensors input
};

/// Decodes input row `r` of `t` into `out` (t.cols floats).
inline void decode_row(const StreamTensor& t, std::size_t r, float* out) {
  const std::byte* p = t.file->bytes().data() + t.offset + r * t.row_bytes;
  if (t.gguf) {
    io::detail::gguf_dequantize_unchecked(t.in_type, p, out, t.cols);
    return;
  }
  switch (t.dtype) {
    case DType::f32:
      std::memcpy(out, p, t.cols * 4);
      break;
    case DType::f16:
      for (std::size_t k = 0; k < t.cols; ++k) {
        std::uint16_t b;
        std::memcpy(&b, p + 2 * k, 2);
        out[k] = static_cast<float>(f16::from_bits(b));
      }
      break;
    default:  // bf16: the only other dtype the planner admits
      for (std::size_t k = 0; k < t.cols; ++k) {
        std::uint16_t b;
        std::memcpy(&b, p + 2 * k, 2);
        out[k] = static_cast<float>(bf16::from_bits(b));
      }
      break;
  }
}

/// One row of `n` floats as `type` (f32, f16, q8_0 or q4_0; the planner admits no other).
inline void encode_row(io::GgmlType type, const float* row, std::size_t n, std::byte* out) {
  switch (type) {
    case io::GgmlType::f32:
      std::memcpy(out, row, n * 4);
      break;
    case io::GgmlType::f16:
      for (std::size_t k = 0; k < n; ++k)
        io::detail::store_le<std::uint16_t>(out + 2 * k, f16(row[k]).bits());
      break;
    default:
      io::gguf_quantize(type, std::span<const float>(row, n),
                        std::span<std::byte>(out, n / 32 * (type == io::GgmlType::q8_0 ? 34 : 18)));
      break;
  }
}

/// The input row that GGUF row `r` of a Q/K projection with `heads` heads comes from
/// (llama.cpp's convert_hf_to_gguf permutation: HF rotates halves, GGUF adjacent pairs).
[[nodiscard]] inline std::size_t permuted_row(std::size_t r, std::size_t rows,
                                              std::size_t heads) noexcept {
  const std::size_t d = rows / heads, h = r / d, j = r % d;
  return h * d + (j % 2) * (d / 2) + j / 2;
}

inline const std::vector<std::pair<const char*, const char*>>& hf_block_names() {
  static const std::vector<std::pair<const char*, const char*>> names = {
      {"input_layernorm.weight", "attn_norm"},    {"self_attn.q_proj.weight", "attn_q"},
      {"self_attn.k_proj.weight", "attn_k"},      {"self_attn.v_proj.weight", "attn_v"},
      {"self_attn.o_proj.weight", "attn_output"}, {"post_attention_layernorm.weight", "ffn_norm"},
      {"mlp.gate_proj.weight", "ffn_gate"},       {"mlp.up_proj.weight", "ffn_up"},
      {"mlp.down_proj.weight", "ffn_down"}};
  return names;
}

/// The output type of block `b`'s linear weight of kind `kind` (attn_q ...).
[[nodiscard]] inline io::GgmlType linear_type(const CheckpointQuantizeOptions& o,
                                              const LlamaConfig& c, std::size_t b,
                                              std::string_view kind) {
  if (o.type != io::GgmlType::q4_0) return o.type;
  const std::size_t e = o.keep_q8_edge_blocks;
  if (b < e || b + e >= c.layers) return io::GgmlType::q8_0;
  for (const auto& k : o.keep_q8)
    if (k == kind) return io::GgmlType::q8_0;
  return o.type;
}

/// Expected shapes and output types of every tensor, by GGUF name; `out` order is canonical.
struct Plan {
  LlamaConfig c;
  bool tied = false;
  std::vector<StreamTensor> tensors;
};

/// The tensor list of a llama model of config `c`, with output names, shapes and types
/// (sources still unset). `with_output`: an output.weight separate from token_embd.
inline std::vector<StreamTensor> plan_tensors(const LlamaConfig& c, bool with_output,
                                              const CheckpointQuantizeOptions& o) {
  const io::GgmlType emb = o.embedding_type.value_or(io::GgmlType::q8_0);
  const std::size_t h = c.hidden, kv = c.kv_width(), ff = c.ffn;
  std::vector<StreamTensor> ts;
  auto add = [&](std::string name, std::size_t rows, std::size_t cols, io::GgmlType type,
                 std::size_t heads) {
    StreamTensor t;
    t.name = std::move(name);
    t.rows = rows;
    t.cols = cols;
    t.shape = rows == 0 ? std::vector<std::size_t>{cols} : std::vector<std::size_t>{rows, cols};
    if (t.rows == 0) t.rows = 1;
    t.out_type = type;
    t.permute_heads = heads;
    ts.push_back(std::move(t));
  };
  add("token_embd.weight", c.vocab_size, h, emb, 0);
  for (std::size_t b = 0; b < c.layers; ++b) {
    const std::string p = "blk." + std::to_string(b) + ".";
    auto lin = [&](const char* kind, std::size_t rows, std::size_t cols, std::size_t heads) {
      add(p + kind + ".weight", rows, cols, linear_type(o, c, b, kind), heads);
    };
    add(p + "attn_norm.weight", 0, h, io::GgmlType::f32, 0);
    lin("attn_q", h, h, c.heads);
    lin("attn_k", kv, h, c.kv_heads);
    lin("attn_v", kv, h, 0);
    lin("attn_output", h, h, 0);
    add(p + "ffn_norm.weight", 0, h, io::GgmlType::f32, 0);
    lin("ffn_gate", ff, h, 0);
    lin("ffn_up", ff, h, 0);
    lin("ffn_down", h, ff, 0);
  }
  add("output_norm.weight", 0, h, io::GgmlType::f32, 0);
  if (with_output) add("output.weight", c.vocab_size, h, emb, 0);
  return ts;
}

[[nodiscard]] inline io::GgufMetadata llama_metadata(const LlamaConfig& c, const std::string& name,
                                                     io::GgmlType type) {
  return {{"general.architecture", "llama"},
          {"general.name", name},
          {"llama.context_length", static_cast<std::uint32_t>(c.context)},
          {"llama.embedding_length", static_cast<std::uint32_t>(c.hidden)},
          {"llama.block_count", static_cast<std::uint32_t>(c.layers)},
          {"llama.feed_forward_length", static_cast<std::uint32_t>(c.ffn)},
          {"llama.rope.dimension_count", static_cast<std::uint32_t>(c.head_dim())},
          {"llama.attention.head_count", static_cast<std::uint32_t>(c.heads)},
          {"llama.attention.head_count_kv", static_cast<std::uint32_t>(c.kv_heads)},
          {"llama.attention.layer_norm_rms_epsilon", c.rms_eps},
          {"llama.rope.freq_base", c.rope_theta},
          {"llama.vocab_size", static_cast<std::uint32_t>(c.vocab_size)},
          // llama_ftype: 7 MOSTLY_Q8_0, 2 MOSTLY_Q4_0
          {"general.file_type", static_cast<std::uint32_t>(type == io::GgmlType::q4_0 ? 2 : 7)},
          {"general.quantization_version", std::uint32_t{2}}};
}

}  // namespace pare::llm::detail

namespace pare::llm {

PARE_INLINE CheckpointQuantizeReport quantize_checkpoint(const std::filesystem::path& in,
                                                         const std::filesystem::path& out_gguf,
                                                         const CheckpointQuantizeOptions& o) {
  using namespace detail;
  using ::pare::detail::concat;
  const auto start = std::chrono::steady_clock::now();
  PARE_CHECK(o.type == io::GgmlType::q8_0 || o.type == io::GgmlType::q4_0, ArgumentError,
             "quantize_checkpoint: linear weights are written as q8_0 or q4_0, not ",
             io::name(o.type));
  if (o.embedding_type) {
    const auto e = *o.embedding_type;
    PARE_CHECK(e == io::GgmlType::f32 || e == io::GgmlType::f16 || e == io::GgmlType::q8_0 ||
                   e == io::GgmlType::q4_0,
               ArgumentError,
               "quantize_checkpoint: token_embd and output are written as f32, f16, q8_0 or "
               "q4_0, not ",
               io::name(e));
  }
  for (const auto& k : o.keep_q8) {
    bool known = false;
    for (const auto& [hf, kind] : hf_block_names())
      known = known || (k == kind && std::string_view(kind).find("norm") == std::string_view::npos);
    PARE_CHECK(known, ArgumentError, "quantize_checkpoint: keep_q8 kind '", k,
               "' is not one of attn_q, attn_k, attn_v, attn_output, ffn_gate, ffn_up, ffn_down");
  }

  // ---- the input: config, tensors and where their bytes are ---------------------------------
  detail::HfCheckpoint hf_in;  // keeps the shards' maps alive
  std::shared_ptr<io::GgufFile> gguf_in;
  LlamaConfig c;
  io::GgufMetadata md;
  std::vector<StreamTensor> ts;
  const bool hf_input = std::filesystem::is_directory(in) || in.filename() == "config.json";
  std::string default_name;
  if (hf_input) {
    const std::filesystem::path dir = std::filesystem::is_directory(in) ? in : in.parent_path();
    default_name = std::filesystem::absolute(dir).lexically_normal().filename().string();
    if (default_name.empty())
      default_name =
          std::filesystem::absolute(dir).lexically_normal().parent_path().filename().string();
    hf_in = detail::open_hf_checkpoint(dir, io::AccessHint::sequential);
    c = hf_in.config;
    const bool tied = hf_in.tied;
    const auto& where = hf_in.where;
    const bool with_output = !tied && where.count("lm_head.weight") != 0;
    ts = plan_tensors(c, with_output, o);
    for (auto& t : ts) {
      std::string hf;
      if (t.name == "token_embd.weight") {
        hf = "model.embed_tokens.weight";
      } else if (t.name == "output_norm.weight") {
        hf = "model.norm.weight";
      } else if (t.name == "output.weight") {
        hf = "lm_head.weight";
      } else {
        const std::size_t dot = t.name.find('.', 4);
        const std::string block = t.name.substr(4, dot - 4),
                          kind = t.name.substr(dot + 1, t.name.size() - dot - 1 - 7);
        for (const auto& [from, to] : hf_block_names())
          if (kind == to) hf = "model.layers." + block + "." + from;
      }
      auto it = where.find(hf);
      if (it == where.end() || !it->second->contains(hf))
        throw FormatError(dir.string(), hf, 0, "tensor missing: a llama checkpoint needs it");
      const io::SafetensorsFile& f = *it->second;
      const io::SafetensorsInfo& i = f.info(hf);
      if (i.shape != t.shape)
        throw FormatError(f.file().name(), hf, i.offset,
                          concat("tensor has shape ", shape_text(i.shape), ", the config needs ",
                                 shape_text(t.shape)));
      if (i.dtype != DType::f32 && i.dtype != DType::f16 && i.dtype != DType::bf16)
        throw UnsupportedError(concat(f.file().name(), ": tensor '", hf, "' is ",
                                      ::pare::name(i.dtype),
                                      "; pare converts F32, F16 and BF16 weights"));
      t.file = &f.file();
      t.offset = i.offset;
      t.bytes = i.bytes.size();
      t.row_bytes = static_cast<std::size_t>(t.bytes / t.rows);
      t.dtype = i.dtype;
    }
    md = llama_metadata(c, o.name.empty() ? default_name : o.name, o.type);
  } else {
    gguf_in = std::make_shared<io::GgufFile>(
        io::GgufFile(io::MappedFile::open(in, io::AccessHint::sequential)));
    const io::GgufFile& f = *gguf_in;
    default_name = in.stem().string();
    c = gguf_llama_config(f);
    const bool with_output = f.contains("output.weight");
    ts = plan_tensors(c, with_output, o);
    for (auto& t : ts) {
      if (!f.contains(t.name))
        throw FormatError(f.file().name(), t.name, 0, "tensor missing: a llama GGUF needs it");
      const io::GgufTensorInfo& i = f.info(t.name);
      if (i.shape != t.shape)
        throw FormatError(f.file().name(), t.name, i.info_offset,
                          concat("tensor has shape ", shape_text(i.shape),
                                 ", the model's config needs ", shape_text(t.shape)));
      const auto ti = *io::ggml_type_info(i.type);
      if (!ti.dequantizable && i.type != t.out_type)
        throw UnsupportedError(concat(f.file().name(), ": tensor '", t.name, "' is ", ti.name,
                                      ", which pare cannot decode"));
      t.permute_heads = 0;  // GGUF llama files hold the permuted rows already
      t.file = &f.file();
      t.offset = i.file_offset;
      t.bytes = i.byte_size;
      t.row_bytes = static_cast<std::size_t>(t.bytes / t.rows);
      t.gguf = true;
      t.in_type = i.type;
    }
    // Everything but the layout keys: tokenizer, rope and the model's description carry over.
    for (const auto& e : f.metadata())
      if (e.key != "general.alignment" && e.key != "general.file_type" &&
          e.key != "general.quantization_version" && e.key != "llama.vocab_size")
        md.set(e.key, e.value);
    const io::GgufMetadata fresh =
        llama_metadata(c, o.name.empty() ? default_name : o.name, o.type);
    for (const auto& e : fresh)
      if (!md.contains(e.key) || e.key == "general.file_type" ||
          e.key == "general.quantization_version" || (e.key == "general.name" && !o.name.empty()))
        md.set(e.key, e.value);
  }
  for (const auto& t : ts)
    if (t.out_type != io::GgmlType::f32 && t.out_type != io::GgmlType::f16)
      PARE_CHECK(t.cols % 32 == 0, UnsupportedError, "quantize_checkpoint: tensor '", t.name,
                 "' has rows of ", t.cols, " values; ", io::name(t.out_type),
                 " needs a multiple of 32");

  if (!o.tokenizer_from.empty()) {
    const io::GgufFile tok = io::GgufFile::open(o.tokenizer_from);
    io::GgufMetadata kept;
    for (const auto& e : md)
      if (e.key.rfind("tokenizer.", 0) != 0) kept.set(e.key, e.value);
    std::size_t copied = 0;
    for (const auto& e : tok.metadata())
      if (e.key.rfind("tokenizer.", 0) == 0) {
        kept.set(e.key, e.value);
        ++copied;
      }
    PARE_CHECK(copied > 0, ArgumentError, "quantize_checkpoint: ", o.tokenizer_from.string(),
               " has no tokenizer.* keys");
    if (const auto* tokens = tok.metadata().find("tokenizer.ggml.tokens")) {
      const auto* a = tokens->get_if<io::GgufArray>();
      PARE_CHECK(a != nullptr && a->size() == c.vocab_size, ArgumentError,
                 "quantize_checkpoint: the tokenizer in ", o.tokenizer_from.string(), " has ",
                 a ? a->size() : 0, " tokens, the model's vocabulary ", c.vocab_size,
                 " (llama.cpp needs them equal)");
    }
    md = std::move(kept);
  }

  // Reading in file order makes the input one sequential pass over each file.
  std::stable_sort(ts.begin(), ts.end(), [&](const StreamTensor& a, const StreamTensor& b) {
    if (a.file != b.file) return a.file->name() < b.file->name();
    return a.offset < b.offset;
  });

  // ---- the output ------------------------------------------------------------------------
  std::vector<io::GgufTensorSpec> specs;
  specs.reserve(ts.size());
  std::uint64_t total = 0;
  for (const auto& t : ts) {
    specs.push_back({t.name, t.shape, t.out_type});
    total += t.bytes;
  }
  io::GgufStreamWriter w(out_gguf, md, std::move(specs));

  CheckpointQuantizeReport report;
  report.config = c;
  std::uint64_t done = 0;
  auto tell = [&](std::string_view name) {
    if (!o.progress) return;
    const double s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    CheckpointProgress p;
    p.bytes_done = done;
    p.bytes_total = total;
    p.seconds = s;
    p.eta_seconds =
        done > 0 ? s * static_cast<double>(total - done) / static_cast<double>(done) : 0.0;
    p.tensor = name;
    o.progress(p);
  };
  // A thread asks the kernel to read the input up to `ahead` bytes past the row block being
  // converted (MADV_WILLNEED blocks while it queues the reads, so it must not be the converting
  // thread): the disk and the CPU work at the same time, and nothing is added to the RSS.
  constexpr std::uint64_t ahead = std::uint64_t{256} << 20, step = std::uint64_t{16} << 20;
  std::atomic<std::uint64_t> consumed{0};
  std::atomic<bool> stop{false};
  std::thread prefetcher([&] {
    std::uint64_t pos = 0;
    for (const auto& t : ts)
      for (std::uint64_t off = 0; off < t.bytes; off += step) {
        while (!stop.load() && pos > consumed.load() + ahead)
          std::this_thread::sleep_for(std::chrono::milliseconds(2));
        if (stop.load()) return;
        const std::uint64_t n = std::min(step, t.bytes - off);
        t.file->prefetch(static_cast<std::size_t>(t.offset + off), static_cast<std::size_t>(n));
        pos += n;
      }
  });
  struct Join {
    std::atomic<bool>& stop;
    std::thread& t;
    ~Join() {
      stop.store(true);
      t.join();
    }
  } join{stop, prefetcher};
  std::vector<float> buf;
  std::vector<std::byte> enc;
  for (const auto& t : ts) {
    const std::size_t rows_per_chunk = std::max<std::size_t>(1, o.chunk_bytes / (t.cols * 4));
    if (t.gguf && t.in_type == t.out_type) {
      // Already the target type: the blocks go across untouched.
      const std::byte* base = t.file->bytes().data() + t.offset;
      for (std::size_t r0 = 0; r0 < t.rows; r0 += rows_per_chunk) {
        const std::size_t n = std::min(rows_per_chunk, t.rows - r0);
        w.write(std::span<const std::byte>(base + r0 * t.row_bytes, n * t.row_bytes));
        t.file->release(static_cast<std::size_t>(t.offset) + r0 * t.row_bytes, n * t.row_bytes);
        done += n * t.row_bytes;
        consumed.store(done);
        tell(t.name);
      }
    } else {
      const auto ti = *io::ggml_type_info(t.out_type);
      const std::size_t out_row = t.cols / ti.block_size * ti.type_size;
      buf.resize(std::min(rows_per_chunk, t.rows) * t.cols);
      enc.resize(std::min(rows_per_chunk, t.rows) * out_row);
      for (std::size_t r0 = 0; r0 < t.rows; r0 += rows_per_chunk) {
        const std::size_t n = std::min(rows_per_chunk, t.rows - r0);
        // Rows are decoded and encoded on pare's threads; each row's bytes depend on that row
        // only, so the file is the same for any thread count.
        parallel_for(0, n, 16, [&](std::size_t lo, std::size_t hi) {
          for (std::size_t i = lo; i < hi; ++i) {
            const std::size_t r =
                t.permute_heads ? permuted_row(r0 + i, t.rows, t.permute_heads) : r0 + i;
            // An aligned F32 row is encoded where it lies in the map, without a copy.
            const std::byte* src = t.file->bytes().data() + t.offset + r * t.row_bytes;
            const float* row = buf.data() + i * t.cols;
            if (!t.gguf && t.dtype == DType::f32 &&
                reinterpret_cast<std::uintptr_t>(src) % alignof(float) == 0)
              row = reinterpret_cast<const float*>(src);
            else
              decode_row(t, r, buf.data() + i * t.cols);
            // The quantizers check finiteness themselves; F32/F16 outputs (norms) are checked
            // here, so a non-finite value is a FormatError naming its place either way.
            const bool quantized =
                t.out_type == io::GgmlType::q8_0 || t.out_type == io::GgmlType::q4_0;
            auto non_finite = [&] {
              for (std::size_t k = 0; k < t.cols; ++k)
                if (!std::isfinite(row[k]))
                  throw FormatError(t.file->name(), t.name, t.offset + r * t.row_bytes,
                                    concat("row ", r, " holds a non-finite value at column ", k));
            };
            if (!quantized) non_finite();
            try {
              encode_row(t.out_type, row, t.cols, enc.data() + i * out_row);
            } catch (const ArgumentError&) {
              non_finite();
              throw;
            }
          }
        });
        w.write(std::span<const std::byte>(enc.data(), n * out_row));
        // Permuted rows are gathered from all over the tensor: drop its pages at the end.
        if (!t.permute_heads)
          t.file->release(static_cast<std::size_t>(t.offset) + r0 * t.row_bytes, n * t.row_bytes);
        done += n * t.row_bytes;
        consumed.store(done);
        tell(t.name);
      }
      if (t.permute_heads)
        t.file->release(static_cast<std::size_t>(t.offset), static_cast<std::size_t>(t.bytes));
    }
    ++report.tensors;
    switch (t.out_type) {
      case io::GgmlType::q8_0:
        ++report.q8_0;
        break;
      case io::GgmlType::q4_0:
        ++report.q4_0;
        break;
      case io::GgmlType::f32:
        ++report.f32;
        break;
      default:
        ++report.other;
        break;
    }
  }
  report.output_bytes = w.file_size();
  w.finish();
  report.input_bytes = done;
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  tell("");
  return report;
}

}  // namespace pare::llm
