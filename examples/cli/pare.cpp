// SPDX-License-Identifier: Apache-2.0
// pare — the command-line tool.
//
//   pare inspect FILE        format, tensors (dtype, shape, bytes), metadata
//   pare convert IN OUT      between formats; OUT's format from its extension (.pare, .safetensors)
//   pare quantize / prune    compress a model (commands.hpp), written as a pare.sequential .pare
//   pare eval / bench        accuracy on labelled data; latency and throughput
//
// Input formats are recognized by their first bytes: .pare, safetensors, .npy, .npz, PyTorch
// checkpoints (torch.save), GGUF. GGUF's quantized blocks are dequantized to f32 on conversion.
// Exit codes: 0 success, 1 a file could not be read or written, 2 bad arguments.
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "pare/io.hpp"
#include "pare/io/detect.hpp"
#include "pare/io/load_model.hpp"
#include "pare/io/onnx.hpp"

#include "commands.hpp"

namespace {

namespace io = pare::io;

// One tensor of any format, as bytes in row-major order.
struct Entry {
  Entry(std::string n, pare::DType d, std::vector<std::size_t> s, std::uint64_t stored,
        std::span<const std::byte> b = {}, std::string t = {})
      : name(std::move(n)),
        type(t.empty() ? std::string(pare::name(d)) : std::move(t)),
        dtype(d),
        shape(std::move(s)),
        stored_bytes(stored),
        bytes(b) {}

  std::string name;
  std::string type;  // the format's own name of the element type, for inspect
  pare::DType dtype = pare::DType::f32;
  std::vector<std::size_t> shape;
  std::uint64_t stored_bytes = 0;
  std::span<const std::byte> bytes;  // empty until loaded (inspect never loads)
  std::shared_ptr<std::vector<std::byte>> owned;
};

struct Model {
  io::FileFormat format = io::FileFormat::unknown;
  std::vector<Entry> entries;
  std::map<std::string, std::string> metadata;
  std::shared_ptr<const void> keep_alive;
};

template <class Shape>
std::vector<std::size_t> to_sizes(const Shape& s) {
  return {s.begin(), s.end()};
}

Entry owned_entry(std::string name, pare::DType dtype, std::vector<std::size_t> shape,
                  std::vector<std::byte> bytes) {
  Entry e(std::move(name), dtype, std::move(shape), bytes.size());
  e.owned = std::make_shared<std::vector<std::byte>>(std::move(bytes));
  e.bytes = *e.owned;
  return e;
}

Entry npy_entry(std::string name, const io::NpyArray& a, bool load) {
  if (a.fortran_order && load)
    throw pare::UnsupportedError("'" + name +
                                 "' is stored in Fortran order; convert reads C order only");
  return Entry(std::move(name), a.dtype, a.shape, a.data.size(), a.data);
}

Model read_model(const std::filesystem::path& path, bool load) {
  Model m;
  m.format = io::detect_format(path);
  switch (m.format) {
    case io::FileFormat::pare: {
      const auto f = io::PareFile::open(path);
      for (const auto& n : f.names()) {
        const auto& i = f.info(n);
        m.entries.emplace_back(n, i.dtype, to_sizes(i.shape), i.bytes.size(), i.bytes);
      }
      m.metadata = f.metadata();
      m.keep_alive = f.keep_alive();
      break;
    }
    case io::FileFormat::safetensors: {
      const auto f = io::SafetensorsFile::open(path);
      for (const auto& n : f.names()) {
        const auto& i = f.info(n);
        m.entries.emplace_back(n, i.dtype, i.shape, i.bytes.size(), i.bytes);
      }
      m.metadata = f.metadata();
      m.keep_alive = f.keep_alive();
      break;
    }
    case io::FileFormat::npy: {
      const auto a = io::read_npy_array(path);
      m.entries.push_back(npy_entry(path.stem().string(), a, load));
      m.keep_alive = a.owner;
      break;
    }
    case io::FileFormat::npz: {
      const auto f = io::NpzFile::open(path);
      for (const auto& n : f.names()) {
        auto a = f.array(n);
        m.entries.push_back(npy_entry(n, a, load));
        m.keep_alive = a.owner;
      }
      break;
    }
    case io::FileFormat::torch: {
      const auto f = io::TorchCheckpoint::open(path);
      for (const auto& n : f.names()) {
        const auto& i = f.info(n);
        if (load) {
          m.entries.push_back(owned_entry(n, i.dtype, i.shape, f.load_bytes(n)));
        } else {
          m.entries.emplace_back(n, i.dtype, i.shape, i.size() * (pare::size_bits(i.dtype) / 8));
        }
      }
      break;
    }
    case io::FileFormat::gguf: {
      const auto f = io::GgufFile::open(path);
      for (const auto& t : f.tensors()) {
        const bool raw = t.type == io::GgmlType::f32 || t.type == io::GgmlType::f16 ||
                         t.type == io::GgmlType::bf16;
        Entry e(t.name, pare::DType::f32, t.shape, t.byte_size, {}, io::name(t.type));
        if (raw) {
          e.dtype = t.type == io::GgmlType::f32   ? pare::DType::f32
                    : t.type == io::GgmlType::f16 ? pare::DType::f16
                                                  : pare::DType::bf16;
          e.bytes = f.raw(t.name);
        } else if (load) {
          const auto x = f.dequantize(t.name);  // quantized blocks -> f32
          const auto b = std::as_bytes(x.span());
          e = owned_entry(t.name, pare::DType::f32, t.shape, {b.begin(), b.end()});
        }
        m.entries.push_back(std::move(e));
      }
      for (const auto& kv : f.metadata())
        if (const auto* s = kv.value.get_if<std::string>()) m.metadata[kv.key] = *s;
      m.keep_alive = f.keep_alive();
      break;
    }
    case io::FileFormat::onnx: {  // the initializers (weights); the graph is pare::load_model's
      const auto f = io::OnnxModel::open(path);
      for (const auto& t : f.initializers) {
        using O = io::OnnxDataType;
        const pare::DType d = t.dtype == O::float32    ? pare::DType::f32
                              : t.dtype == O::float16  ? pare::DType::f16
                              : t.dtype == O::bfloat16 ? pare::DType::bf16
                              : t.dtype == O::float64  ? pare::DType::f64
                              : t.dtype == O::int8     ? pare::DType::i8
                              : t.dtype == O::uint8    ? pare::DType::u8
                              : t.dtype == O::int32    ? pare::DType::i32
                              : t.dtype == O::int64    ? pare::DType::i64
                                                       : pare::DType::boolean;
        m.entries.push_back(owned_entry(t.name, d, {t.dims.begin(), t.dims.end()}, t.data));
      }
      break;
    }
    case io::FileFormat::hdf5:
      throw pare::UnsupportedError(path.string() +
                                   ": HDF5 files are read by the optional pare::hdf5 component "
                                   "(pare/io/hdf5.hpp), which this tool is not built with");
    case io::FileFormat::unknown:
      throw pare::UnsupportedError(path.string() + ": not a format pare recognizes");
  }
  return m;
}

std::string shape_text(const std::vector<std::size_t>& s) {
  std::string t = "[";
  for (std::size_t i = 0; i < s.size(); ++i) t += (i ? ", " : "") + std::to_string(s[i]);
  return t + "]";
}

int inspect(const std::filesystem::path& path) {
  const Model m = read_model(path, /*load=*/false);
  std::uint64_t total = 0;
  for (const auto& e : m.entries) total += e.stored_bytes;
  std::printf("%s: %s, %zu tensors, %llu bytes of tensor data\n", path.c_str(),
              std::string(io::name(m.format)).c_str(), m.entries.size(),
              static_cast<unsigned long long>(total));
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

int convert(const std::filesystem::path& in, const std::filesystem::path& out) {
  const std::string ext = out.extension().string();
  if (ext != ".pare" && ext != ".safetensors") {
    std::fprintf(stderr, "pare convert: output must end in .pare or .safetensors, got '%s'\n",
                 out.c_str());
    return 2;
  }
  if (ext == ".pare" && io::detect_format(in) == io::FileFormat::onnx) {
    // keep the graph (BN folded, GELU fused) so pare::load_model can run the .pare file
    pare::save_model(pare::load_model(in), out);
    std::printf("%s -> %s: ONNX graph and initializers\n", in.c_str(), out.c_str());
    return 0;
  }
  const Model m = read_model(in, /*load=*/true);
  if (ext == ".pare") {
    io::PareWriter w;
    for (const auto& e : m.entries) {
      const auto bytes = e.bytes;
      w.add_generated(e.name, e.dtype, {e.shape.begin(), e.shape.end()},
                      [bytes](const io::PareWriter::Emit& emit) { emit(bytes); });
    }
    for (const auto& [k, v] : m.metadata) w.set_metadata(k, v);
    w.save(out);
  } else {
    std::vector<io::SafetensorsEntry> entries;
    for (const auto& e : m.entries) entries.push_back({e.name, e.dtype, e.shape, e.bytes});
    io::write_safetensors(out, entries, m.metadata);
  }
  std::printf("%s -> %s: %zu tensors\n", in.c_str(), out.c_str(), m.entries.size());
  return 0;
}

constexpr const char* usage_text =
    "usage: pare inspect FILE\n"
    "       pare convert IN OUT            (OUT: .pare or .safetensors)\n"
    "       pare quantize IN OUT [--format int8|int4|nf4] [--group G]\n"
    "                            [--calib FILE --method rtn|gptq]\n"
    "       pare quantize IN OUT --format mixed --bpw BITS [--override 'PAT=FMT,...']\n"
    "                            [--calib FILE]   (FMT: f32, int8, int4_g32, nf4_g64)\n"
    "       pare prune IN OUT --sparsity S [--pattern unstructured|2:4]\n"
    "                         [--method magnitude|wanda|sparsegpt --calib FILE]\n"
    "       pare eval MODEL DATA [--split all|train|test]\n"
    "       pare bench MODEL [--iterations N]\n"
    "Files are recognized by content: .pare, safetensors, .npy, .npz, PyTorch checkpoints,\n"
    "GGUF, ONNX. A MODEL is a .pare written by pare (quantize/prune/save_model), a state_dict\n"
    "of an nn.Sequential MLP, or (eval) an ONNX model. DATA and --calib: a digits-format CSV\n"
    "(64 features and a label per line) or, for --calib, a float .npy [N, inputs].\n"
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
    if (!args.empty() && args[0] == "prune") return pare_cli::prune(args);
    if (!args.empty() && args[0] == "eval") return pare_cli::eval(args);
    if (!args.empty() && args[0] == "bench") return pare_cli::bench(args);
  } catch (const pare_cli::UsageError& e) {
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
