// SPDX-License-Identifier: Apache-2.0
// pare — the command-line tool.
//
//   pare inspect FILE        format, tensors (dtype, shape, bytes), metadata, the model it holds
//   pare convert IN OUT      between formats; OUT's format from its extension (files.hpp)
//   pare quantize / prune    compress a model (commands.hpp): a layer stack into a pare.sequential
//                            .pare, a graph (ONNX or pare.graph) into a pare.graph .pare
//   pare quantize-llm        a llama checkpoint of any size into a Q8_0/Q4_0 GGUF
//   (quantize_llm.hpp) pare eval / bench        accuracy on labelled data; latency and throughput
//
// Input formats are recognized by their first bytes: .pare, safetensors, .npy, .npz, PyTorch
// checkpoints (zip and legacy), GGUF, ONNX, and Keras HDF5 when built with pare::hdf5. What a
// model file holds decides what the model commands do with it (models.hpp): nothing is guessed.
// Exit codes: 0 success, 1 a file could not be read or written, 2 bad arguments.
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "commands.hpp"
#include "files.hpp"
#include "models.hpp"
#include "pare/io.hpp"
#include "pare/io/load_model.hpp"
#include "quantize_llm.hpp"

namespace {

namespace fs = std::filesystem;
namespace io = pare::io;
using pare_cli::UsageError;

std::string shape_text(const std::vector<std::size_t>& s) {
  std::string t = "[";
  for (std::size_t i = 0; i < s.size(); ++i) t += (i ? ", " : "") + std::to_string(s[i]);
  return t + "]";
}

int inspect(const fs::path& path) {
  const pare_cli::TensorFile m = pare_cli::read_tensors(path, /*load=*/false);
  std::uint64_t total = 0;
  for (const auto& e : m.entries) total += e.stored_bytes;
  const std::string format =
      std::string(io::name(m.format)) + (m.variant.empty() ? "" : " (" + m.variant + ")");
  std::printf("%s: %s, %zu tensors, %llu bytes of tensor data\n", path.c_str(), format.c_str(),
              m.entries.size(), static_cast<unsigned long long>(total));
  if (m.format == io::FileFormat::pare || m.format == io::FileFormat::onnx) {
    const pare_cli::ModelFile model = pare_cli::open_model(path);
    if (model.kind != pare_cli::ModelKind::tensors) std::printf("model: %s\n", model.holds.c_str());
  }
  std::printf("%-40s %-8s %-22s %12s\n", "name", "dtype", "shape", "bytes");
  for (const auto& e : m.entries)
    std::printf("%-40s %-8s %-22s %12llu\n", e.name.c_str(), e.type.c_str(),
                shape_text(e.shape).c_str(), static_cast<unsigned long long>(e.stored_bytes));
  if (!m.metadata.empty()) std::printf("metadata:\n");
  for (const auto& [k, v] : m.metadata)
    std::printf("  %s = %s\n", k.c_str(),
                v.size() > 80 ? (v.substr(0, 77) + "...").c_str() : v.c_str());
  return 0;
}

int convert(const fs::path& in, const fs::path& out) {
  const std::string ext = out.extension().string();
  if (ext != ".pare" && ext != ".safetensors" && ext != ".gguf" && ext != ".npy" && ext != ".npz")
    throw UsageError("pare convert writes " + std::string(pare_cli::output_formats) +
                     ", chosen by the output's extension; got '" + out.string() + "'");
  if (ext == ".pare" && io::detect_format(in) == io::FileFormat::onnx) {
    // keep the graph (BN folded, GELU fused) so pare::load_model and pare eval run the .pare
    pare::save_model(pare::load_model(in), out);
    std::printf("%s -> %s: ONNX graph and initializers\n", in.c_str(), out.c_str());
    return 0;
  }
  const pare_cli::TensorFile m = pare_cli::read_tensors(in, /*load=*/true);
  const std::string note = pare_cli::write_tensors(m, out);
  std::printf("%s -> %s: %zu tensors%s\n", in.c_str(), out.c_str(), m.entries.size(), note.c_str());
  return 0;
}

constexpr const char* usage_text =
    "usage: pare inspect FILE\n"
    "       pare convert IN OUT            (OUT: .pare .safetensors .gguf .npy .npz)\n"
    "       pare quantize IN OUT [--format int8|int4|nf4] [--group G]\n"
    "                            [--calib FILE --method rtn|gptq|awq|smoothquant]\n"
    "                            [--as relu-mlp]\n"
    "                            [--activations dynamic|static] [--nodes GLOBS] [--exclude GLOBS]\n"
    "                            [--skip first|last|first,last]            (graph models)\n"
    "       pare quantize IN OUT --format mixed --bpw BITS [--override 'PAT=FMT,...']\n"
    "                            [--calib FILE] [--as relu-mlp]   (FMT: f32 int8 int4_g32 "
    "nf4_g64)\n"
    "       pare quantize-llm IN OUT.gguf [--type q4_0|q8_0] [--tokenizer-from X.gguf]\n"
    "                            [--keep-q8 attn_v,ffn_down] [--keep-q8-edges N]\n"
    "                            [--embedding-type q8_0|q4_0|f16|f32] [--name S]\n"
    "                            (llama: HF folder or GGUF in, streamed; any size)\n"
    "       pare prune IN OUT --sparsity S [--pattern unstructured|2:4]\n"
    "                         [--method magnitude|wanda|sparsegpt --calib FILE] [--as relu-mlp]\n"
    "                         [--nodes GLOBS] [--exclude GLOBS] [--skip first|last]  (graphs)\n"
    "       pare eval MODEL DATA [--split all|train|test] [--as relu-mlp]\n"
    "       pare eval MODEL --inputs X --labels Y [--split all|train|test] [--as relu-mlp]\n"
    "       pare bench MODEL [--iterations N] [--as relu-mlp]\n"
    "Files are recognized by content: .pare, safetensors, .npy, .npz, PyTorch (zip and legacy),\n"
    "GGUF, ONNX, HDF5. A MODEL is a pare.sequential .pare (written by pare::io::save_model, or\n"
    "by quantize and prune from one) or a graph (ONNX, or a pare.graph .pare: convert, quantize\n"
    "and prune write one from a graph). quantize and prune compress a graph's Gemm, MatMul and\n"
    "Conv nodes (--nodes/--exclude: globs over node names). A file of tensors is a model only\n"
    "when --as says which: --as relu-mlp reads the state_dict of an nn.Sequential of Linear\n"
    "layers with ReLU between them.\n"
    "DATA: a digits-format CSV (64 features and a label per line) or an .npz with arrays x and\n"
    "y. X, Y and --calib: a .npy or FILE.npz:ARRAY (--calib also takes a digits CSV); samples\n"
    "are shaped as the graph's declared input.\n"
    "Exit codes: 0 success, 1 a file could not be read or written, 2 bad arguments.\n";

int usage(const std::string& why = {}) {
  if (!why.empty()) std::fprintf(stderr, "pare: %s\n", why.c_str());
  std::fputs(usage_text, stderr);
  return 2;
}

}  // namespace

int main(int argc, char** argv) try {
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() == 1 && (args[0] == "--help" || args[0] == "help")) {
    std::fputs(usage_text, stdout);
    return 0;
  }
  try {
    if (args.size() == 2 && args[0] == "inspect") return inspect(args[1]);
    if (args.size() == 3 && args[0] == "convert") return convert(args[1], args[2]);
    if (!args.empty() && args[0] == "quantize") return pare_cli::quantize(args);
    if (!args.empty() && args[0] == "quantize-llm") return pare_cli::quantize_llm(args);
    if (!args.empty() && args[0] == "prune") return pare_cli::prune(args);
    if (!args.empty() && args[0] == "eval") return pare_cli::eval(args);
    if (!args.empty() && args[0] == "bench") return pare_cli::bench(args);
  } catch (const UsageError& e) {
    return usage(e.what());
  }
  return usage();
} catch (const pare::Error& e) {
  std::fprintf(stderr, "pare: %s\n", e.what());
  return 1;
} catch (const std::exception& e) {
  std::fprintf(stderr, "pare: %s\n", e.what());
  return 1;
}
