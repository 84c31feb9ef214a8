// SPDX-License-Identifier: Apache-2.0
// pare CLI — quantize-llm: a llama checkpoint (Hugging Face folder or GGUF) of any size into a
// Q8_0 / Q4_0 GGUF file, streamed tensor by tensor (pare/llm/quantize_checkpoint.hpp).
#pragma once

#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include "commands.hpp"
#include "pare/llm/quantize_checkpoint.hpp"
#include "pare/nn/trainer.hpp"

namespace pare_cli {

/// pare quantize-llm IN OUT.gguf [--type q4_0|q8_0] [--embedding-type TYPE]
///                   [--tokenizer-from X.gguf] [--keep-q8 KINDS] [--keep-q8-edges N] [--name S]
inline int quantize_llm(const std::vector<std::string>& args) {
  if (args.size() < 3) throw UsageError("quantize-llm needs IN and OUT.gguf");
  const Options opt(
      args, 3, {"type", "embedding-type", "tokenizer-from", "keep-q8", "keep-q8-edges", "name"});
  const fs::path in = args[1], out = args[2];
  if (out.extension() != ".gguf")
    throw UsageError("quantize-llm writes a GGUF file: OUT must end in .gguf, got '" +
                     out.string() + "'");
  auto type_of = [](const std::string& key, const std::string& v, bool floats) {
    if (v == "q8_0") return io::GgmlType::q8_0;
    if (v == "q4_0") return io::GgmlType::q4_0;
    if (floats && v == "f16") return io::GgmlType::f16;
    if (floats && v == "f32") return io::GgmlType::f32;
    throw UsageError("--" + key + " must be q4_0 or q8_0" + (floats ? " (or f16, f32)" : "") +
                     ", got '" + v + "'");
  };
  pare::llm::CheckpointQuantizeOptions o;
  o.type = type_of("type", opt.get("type", "q4_0"), false);
  if (opt.has("embedding-type"))
    o.embedding_type = type_of("embedding-type", opt.get("embedding-type"), true);
  o.tokenizer_from = opt.get("tokenizer-from");
  o.name = opt.get("name");
  if (opt.has("keep-q8")) {
    std::stringstream kinds(opt.get("keep-q8"));
    for (std::string k; std::getline(kinds, k, ',');)
      if (!k.empty()) o.keep_q8.push_back(k);
  }
  const double edges = opt.number("keep-q8-edges", 0);
  if (edges < 0 || edges != static_cast<double>(static_cast<std::size_t>(edges)))
    throw UsageError("--keep-q8-edges needs a whole number of blocks");
  o.keep_q8_edge_blocks = static_cast<std::size_t>(edges);
  if (o.type != io::GgmlType::q4_0 && (!o.keep_q8.empty() || o.keep_q8_edge_blocks != 0))
    throw UsageError("--keep-q8 and --keep-q8-edges choose Q8_0 layers of a --type q4_0 file");

  // The bar counts MiB of input read; ProgressBar adds the rate and the ETA.
  std::unique_ptr<pare::ProgressBar> bar;
  o.progress = [&](const pare::llm::CheckpointProgress& p) {
    if (!bar) bar = std::make_unique<pare::ProgressBar>(p.bytes_total >> 20, "quantize-llm");
    bar->update(p.bytes_done >> 20, std::string(p.tensor));
  };
  const auto r = pare::llm::quantize_checkpoint(in, out, o);
  if (bar) bar->finish();
  std::printf(
      "%s -> %s: %s; %zu tensors (%zu q8_0, %zu q4_0, %zu f32, %zu other), %.2f GB read, %.2f GB "
      "written in %.1f s (%.2f GB/s)\n",
      in.c_str(), out.c_str(), r.config.describe().c_str(), r.tensors, r.q8_0, r.q4_0, r.f32,
      r.other, static_cast<double>(r.input_bytes) / 1e9, static_cast<double>(r.output_bytes) / 1e9,
      r.seconds, r.seconds > 0 ? static_cast<double>(r.input_bytes) / 1e9 / r.seconds : 0.0);
  return 0;
}

}  // namespace pare_cli
