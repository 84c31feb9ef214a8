// SPDX-License-Identifier: Apache-2.0
// pare CLI — tensors of any file pare reads, and writing them in any format pare writes.
//
// Reading recognizes the format by the file's first bytes (pare/io/detect.hpp); writing picks it
// from the output's extension: .pare, .safetensors, .gguf, .npy (one tensor), .npz. HDF5 (Keras
// weights) is read when the tool is built with pare::hdf5 (PARE_CLI_HDF5).
#pragma once

#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "pare/io.hpp"
#include "pare/io/detect.hpp"
#include "pare/io/onnx.hpp"
#if PARE_CLI_HDF5
#include "pare/io/hdf5.hpp"
#endif

namespace pare_cli {

namespace fs = std::filesystem;
namespace io = pare::io;

/// Bad command-line arguments (exit code 2); file problems are pare::Error (exit code 1).
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// One tensor of any format, as bytes in row-major order.
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
  std::optional<io::GgmlType> ggml;  // a GGUF tensor's own type, and its blocks as stored
  std::span<const std::byte> packed;
};

/// The tensors of a file, what it says about itself, and (for .pare) its model graph.
struct TensorFile {
  io::FileFormat format = io::FileFormat::unknown;
  std::string variant;  // more about the format, for inspect ("legacy format")
  std::vector<Entry> entries;
  std::map<std::string, std::string> metadata;
  pare::Json graph;                      // a .pare file's graph object (null: none)
  std::optional<io::GgufMetadata> gguf;  // a GGUF file's typed metadata
  std::vector<std::shared_ptr<const void>> keep_alive;
};

namespace detail {

template <class Shape>
std::vector<std::size_t> to_sizes(const Shape& s) {
  return {s.begin(), s.end()};
}

inline Entry owned_entry(std::string name, pare::DType dtype, std::vector<std::size_t> shape,
                         std::vector<std::byte> bytes) {
  Entry e(std::move(name), dtype, std::move(shape), bytes.size());
  e.owned = std::make_shared<std::vector<std::byte>>(std::move(bytes));
  e.bytes = *e.owned;
  return e;
}

inline Entry npy_entry(std::string name, const io::NpyArray& a, bool load) {
  if (a.fortran_order && load)
    throw pare::UnsupportedError("'" + name +
                                 "' is stored in Fortran order; convert reads C order only");
  return Entry(std::move(name), a.dtype, a.shape, a.data.size(), a.data);
}

inline pare::DType onnx_dtype(io::OnnxDataType t, const std::string& name) {
  using O = io::OnnxDataType;
  switch (t) {
    case O::float32:
      return pare::DType::f32;
    case O::float16:
      return pare::DType::f16;
    case O::bfloat16:
      return pare::DType::bf16;
    case O::float64:
      return pare::DType::f64;
    case O::int8:
      return pare::DType::i8;
    case O::uint8:
      return pare::DType::u8;
    case O::int16:
      return pare::DType::i16;
    case O::uint16:
      return pare::DType::u16;
    case O::uint32:
      return pare::DType::u32;
    case O::uint64:
      return pare::DType::u64;
    case O::int32:
      return pare::DType::i32;
    case O::int64:
      return pare::DType::i64;
    case O::boolean:
      return pare::DType::boolean;
    default:
      throw pare::UnsupportedError("initializer '" + name + "' has ONNX type " +
                                   std::string(io::name(t)) + ", which pare has no dtype for");
  }
}

#if PARE_CLI_HDF5
// A Keras weight's elements as bytes, whatever its rank (1 to 4) and element type.
template <class T>
std::vector<std::byte> keras_bytes_as(const io::KerasWeights& k, const std::string& layer,
                                      const io::KerasWeightInfo& w) {
  auto get = [&]<std::size_t R>() {
    const auto t = k.load<T, R>(layer, w.name);
    const auto b = std::as_bytes(t.span());
    return std::vector<std::byte>(b.begin(), b.end());
  };
  switch (w.rank()) {
    case 1:
      return get.template operator()<1>();
    case 2:
      return get.template operator()<2>();
    case 3:
      return get.template operator()<3>();
    case 4:
      return get.template operator()<4>();
    default:
      throw pare::UnsupportedError(k.file_name() + ": weight '" + w.path + "' has rank " +
                                   std::to_string(w.rank()) + "; the tool copies ranks 1 to 4");
  }
}

inline std::vector<std::byte> keras_bytes(const io::KerasWeights& k, const std::string& layer,
                                          const io::KerasWeightInfo& w) {
  switch (w.dtype) {
    case pare::DType::f32:
      return keras_bytes_as<float>(k, layer, w);
    case pare::DType::f64:
      return keras_bytes_as<double>(k, layer, w);
    case pare::DType::f16:
      return keras_bytes_as<pare::f16>(k, layer, w);
    case pare::DType::i8:
      return keras_bytes_as<std::int8_t>(k, layer, w);
    case pare::DType::u8:
      return keras_bytes_as<std::uint8_t>(k, layer, w);
    case pare::DType::i16:
      return keras_bytes_as<std::int16_t>(k, layer, w);
    case pare::DType::u16:
      return keras_bytes_as<std::uint16_t>(k, layer, w);
    case pare::DType::i32:
      return keras_bytes_as<std::int32_t>(k, layer, w);
    case pare::DType::u32:
      return keras_bytes_as<std::uint32_t>(k, layer, w);
    case pare::DType::i64:
      return keras_bytes_as<std::int64_t>(k, layer, w);
    case pare::DType::u64:
      return keras_bytes_as<std::uint64_t>(k, layer, w);
    default:
      throw pare::UnsupportedError(k.file_name() + ": weight '" + w.path + "' is " +
                                   std::string(pare::name(w.dtype)));
  }
}
#endif

}  // namespace detail

/// The tensors of `path`; with `load`, each entry's bytes are readable (converted where the
/// format needs it: GGUF's quantized blocks to f32, a torch checkpoint's strided views gathered).
inline TensorFile read_tensors(const fs::path& path, bool load) {
  TensorFile m;
  m.format = io::detect_format(path);
  switch (m.format) {
    case io::FileFormat::pare: {
      const auto f = io::PareFile::open(path);
      for (const auto& n : f.names()) {
        const auto& i = f.info(n);
        m.entries.emplace_back(n, i.dtype, detail::to_sizes(i.shape), i.bytes.size(), i.bytes);
      }
      m.metadata = f.metadata();
      m.graph = f.graph();
      m.keep_alive.push_back(f.keep_alive());
      break;
    }
    case io::FileFormat::safetensors: {
      const auto f = io::SafetensorsFile::open(path);
      for (const auto& n : f.names()) {
        const auto& i = f.info(n);
        m.entries.emplace_back(n, i.dtype, i.shape, i.bytes.size(), i.bytes);
      }
      m.metadata = f.metadata();
      m.keep_alive.push_back(f.keep_alive());
      break;
    }
    case io::FileFormat::npy: {
      const auto a = io::read_npy_array(path);
      m.entries.push_back(detail::npy_entry(path.stem().string(), a, load));
      m.keep_alive.push_back(a.owner);
      break;
    }
    case io::FileFormat::npz: {
      const auto f = io::NpzFile::open(path);
      for (const auto& n : f.names()) {
        auto a = f.array(n);
        m.entries.push_back(detail::npy_entry(n, a, load));
        m.keep_alive.push_back(a.owner);
      }
      break;
    }
    case io::FileFormat::torch: {
      const auto f = io::TorchCheckpoint::open(path);
      for (const auto& n : f.names()) {
        const auto& i = f.info(n);
        if (load) {
          m.entries.push_back(detail::owned_entry(n, i.dtype, i.shape, f.load_bytes(n)));
        } else {
          m.entries.emplace_back(n, i.dtype, i.shape, i.size() * (pare::size_bits(i.dtype) / 8));
        }
      }
      if (f.legacy()) m.variant = "legacy format, before PyTorch 1.6";
      break;
    }
    case io::FileFormat::gguf: {
      const auto f = io::GgufFile::open(path);
      for (const auto& t : f.tensors()) {
        const bool raw = t.type == io::GgmlType::f32 || t.type == io::GgmlType::f16 ||
                         t.type == io::GgmlType::bf16;
        Entry e(t.name, pare::DType::f32, t.shape, t.byte_size, {}, std::string(io::name(t.type)));
        if (raw) {
          e.dtype = t.type == io::GgmlType::f32   ? pare::DType::f32
                    : t.type == io::GgmlType::f16 ? pare::DType::f16
                                                  : pare::DType::bf16;
          e.bytes = f.raw(t.name);
        } else if (load) {
          const auto x = f.dequantize(t.name);  // quantized blocks -> f32
          const auto b = std::as_bytes(x.span());
          e = detail::owned_entry(t.name, pare::DType::f32, t.shape, {b.begin(), b.end()});
          e.type = std::string(io::name(t.type));
        }
        e.ggml = t.type;
        e.packed = f.raw(t.name);
        m.entries.push_back(std::move(e));
      }
      for (const auto& kv : f.metadata())
        if (const auto* s = kv.value.get_if<std::string>()) m.metadata[kv.key] = *s;
      m.gguf = f.metadata();
      m.keep_alive.push_back(f.keep_alive());
      break;
    }
    case io::FileFormat::onnx: {  // the initializers (weights); the graph is pare::load_model's
      const auto f = io::OnnxModel::open(path);
      for (const auto& t : f.initializers)
        m.entries.push_back(detail::owned_entry(t.name, detail::onnx_dtype(t.dtype, t.name),
                                                {t.dims.begin(), t.dims.end()}, t.data));
      break;
    }
    case io::FileFormat::hdf5: {
#if PARE_CLI_HDF5
      const auto k = io::KerasWeights::open(path);
      for (const auto& layer : k.layers())
        for (const auto& w : k.weights(layer)) {
          // Keras 2 names weights "<layer>/kernel:0" already; Keras 3 numbers them.
          const std::string name = w.name.starts_with(layer + "/") ? w.name : layer + "/" + w.name;
          if (load)
            m.entries.push_back(
                detail::owned_entry(name, w.dtype, w.shape, detail::keras_bytes(k, layer, w)));
          else
            m.entries.emplace_back(name, w.dtype, w.shape,
                                   w.size() * (pare::size_bits(w.dtype) / 8));
        }
      m.metadata["keras.layout"] = std::string(io::name(k.layout()));
      if (!k.keras_version().empty()) m.metadata["keras_version"] = k.keras_version();
      if (!k.backend().empty()) m.metadata["backend"] = k.backend();
      break;
#else
      throw pare::UnsupportedError(path.string() +
                                   ": HDF5 files are read by the optional pare::hdf5 component "
                                   "(pare/io/hdf5.hpp); this tool was built without libhdf5 "
                                   "(install libhdf5-dev and reconfigure)");
#endif
    }
    case io::FileFormat::unknown:
      throw pare::FormatError(path.string(), "magic", 0,
                              "not a format pare recognizes (.pare, safetensors, .npy, .npz, "
                              "PyTorch, GGUF, ONNX, HDF5)");
  }
  return m;
}

/// The output formats, by extension.
inline constexpr const char* output_formats = ".pare, .safetensors, .gguf, .npy, .npz";

namespace detail {

inline io::GgmlType ggml_type(const Entry& e) {
  switch (e.dtype) {
    case pare::DType::f32:
      return io::GgmlType::f32;
    case pare::DType::f16:
      return io::GgmlType::f16;
    case pare::DType::bf16:
      return io::GgmlType::bf16;
    case pare::DType::f64:
      return io::GgmlType::f64;
    case pare::DType::i8:
      return io::GgmlType::i8;
    case pare::DType::i16:
      return io::GgmlType::i16;
    case pare::DType::i32:
      return io::GgmlType::i32;
    case pare::DType::i64:
      return io::GgmlType::i64;
    default:
      throw pare::UnsupportedError("tensor '" + e.name + "' is " +
                                   std::string(pare::name(e.dtype)) +
                                   ", which GGUF has no type for (it has f32, f16, bf16, f64, "
                                   "i8, i16, i32, i64 and ggml's block formats)");
  }
}

}  // namespace detail

/// Writes the tensors of `m` to `out` in the format its extension names (UsageError for any
/// other). A .pare output keeps `m`'s graph and metadata; GGUF keeps a GGUF source's blocks
/// as they are (a GGUF written from another format gets f32/f16/bf16/f64 or integer tensors).
/// Returns a note about what the output format cannot hold, or "".
inline std::string write_tensors(const TensorFile& m, const fs::path& out) {
  const std::string ext = out.extension().string();
  const bool has_model = !m.graph.is_null() || m.format == io::FileFormat::onnx;
  std::string note;
  if (ext == ".pare") {
    io::PareWriter w;
    for (const auto& e : m.entries) {
      const auto bytes = e.bytes;
      w.add_generated(e.name, e.dtype, {e.shape.begin(), e.shape.end()},
                      [bytes](const io::PareWriter::Emit& emit) { emit(bytes); });
    }
    if (!m.graph.is_null()) w.set_graph(m.graph);
    for (const auto& [k, v] : m.metadata) w.set_metadata(k, v);
    w.save(out);
    return note;
  }
  if (has_model) note = " (the model graph is not kept: " + ext + " holds tensors only)";
  if (ext == ".safetensors") {
    std::vector<io::SafetensorsEntry> entries;
    for (const auto& e : m.entries) entries.push_back({e.name, e.dtype, e.shape, e.bytes});
    io::write_safetensors(out, entries, m.metadata);
  } else if (ext == ".gguf") {
    std::vector<io::GgufWriteTensor> tensors;
    for (const auto& e : m.entries) {
      io::GgufWriteTensor t;
      t.name = e.name;
      t.shape = e.shape;
      if (e.ggml) {  // from GGUF: the blocks as stored
        t.type = *e.ggml;
        t.packed = e.packed;
      } else {
        t.type = detail::ggml_type(e);
        t.packed = e.bytes;
      }
      tensors.push_back(std::move(t));
    }
    io::GgufMetadata meta;
    if (m.gguf) {
      meta = *m.gguf;
    } else {
      for (const auto& [k, v] : m.metadata) meta.set(k, io::GgufValue(v));
    }
    io::write_gguf(out, meta, tensors);
  } else if (ext == ".npy") {
    if (m.entries.size() != 1)
      throw UsageError(".npy holds one array, the input has " + std::to_string(m.entries.size()) +
                       " tensors: write .npz (or .safetensors, .pare, .gguf) instead");
    const Entry& e = m.entries.front();
    io::write_npy(out, e.dtype, e.shape, e.bytes);
    if (!m.metadata.empty()) note += " (metadata is not kept: .npy has none)";
  } else if (ext == ".npz") {
    std::vector<io::NpzEntry> arrays;
    for (const auto& e : m.entries) arrays.push_back({e.name, e.dtype, e.shape, e.bytes});
    io::write_npz(out, arrays);
    if (!m.metadata.empty()) note += " (metadata is not kept: .npz has none)";
  } else {
    throw UsageError("pare convert writes " + std::string(output_formats) +
                     ", chosen by the output's extension; got '" + out.string() + "'");
  }
  return note;
}

}  // namespace pare_cli
