// SPDX-License-Identifier: Apache-2.0
// pare — definitions for io/onnx.hpp: compiled once into pare::compiled, or included by the
// header (core/config.hpp explains the two modes).
#pragma once

#include <cmath>
#include <cstring>
#include <map>
#include <optional>

#include "pare/core/config.hpp"
#include "pare/core/error.hpp"
#include "pare/io/detail/protobuf.hpp"
#include "pare/io/mapped_file.hpp"
#include "pare/io/onnx.hpp"

namespace pare::io {

namespace detail {

struct OnnxParser {
  std::string file;
  std::optional<std::filesystem::path> folder;  ///< for external data; none: refuse it
  std::map<std::string, MappedFile> external;   ///< opened external files, by location

  OnnxModel parse(std::span<const std::byte> bytes) {
    OnnxModel m;
    ProtoReader r(bytes, file, "ModelProto");
    ProtoField f;
    bool has_graph = false;
    while (r.next(f)) {
      switch (f.number) {
        case 1:
          m.ir_version = r.as_int64(f, "ModelProto.ir_version");
          break;
        case 2:
          m.producer_name = r.as_string(f, "ModelProto.producer_name");
          break;
        case 3:
          m.producer_version = r.as_string(f, "ModelProto.producer_version");
          break;
        case 7:
          if (has_graph)
            throw FormatError(file, "ModelProto.graph", f.offset, "the model has two graphs");
          has_graph = true;
          parse_graph(r.message(f, "graph"), m);
          break;
        case 8: {
          ProtoReader o = r.message(f, "opset_import");
          ProtoField g;
          std::string domain;
          std::int64_t version = 0;
          while (o.next(g)) {
            if (g.number == 1) domain = o.as_string(g, "opset_import.domain");
            if (g.number == 2) version = o.as_int64(g, "opset_import.version");
          }
          m.opsets[domain] = version;
          break;
        }
        default:
          break;  // unknown and unused fields are skipped, as protobuf requires
      }
    }
    if (!has_graph) throw FormatError(file, "ModelProto.graph", 0, "the model has no graph");
    if (m.ir_version <= 0)
      throw FormatError(file, "ModelProto.ir_version", 0,
                        ::pare::detail::concat("missing or invalid ir_version ", m.ir_version));
    return m;
  }

  void parse_graph(ProtoReader r, OnnxModel& m) {
    ProtoField f;
    while (r.next(f)) {
      switch (f.number) {
        case 1:
          m.nodes.push_back(
              parse_node(r.message(f, ::pare::detail::concat("graph.node[", m.nodes.size(), "]"))));
          break;
        case 2:
          m.graph_name = r.as_string(f, "graph.name");
          break;
        case 5:
          m.initializers.push_back(parse_tensor(r.message(
              f, ::pare::detail::concat("graph.initializer[", m.initializers.size(), "]"))));
          break;
        case 11:
          m.inputs.push_back(parse_value_info(
              r.message(f, ::pare::detail::concat("graph.input[", m.inputs.size(), "]"))));
          break;
        case 12:
          m.outputs.push_back(parse_value_info(
              r.message(f, ::pare::detail::concat("graph.output[", m.outputs.size(), "]"))));
          break;
        case 15:
          throw UnsupportedError(file + ": sparse initializers are not supported");
        default:
          break;
      }
    }
  }

  OnnxNode parse_node(ProtoReader r) {
    OnnxNode n;
    n.offset = r.base();
    ProtoField f;
    while (r.next(f)) {
      switch (f.number) {
        case 1:
          n.inputs.push_back(r.as_string(f, r.path() + ".input"));
          break;
        case 2:
          n.outputs.push_back(r.as_string(f, r.path() + ".output"));
          break;
        case 3:
          n.name = r.as_string(f, r.path() + ".name");
          break;
        case 4:
          n.op_type = r.as_string(f, r.path() + ".op_type");
          break;
        case 7:
          n.domain = r.as_string(f, r.path() + ".domain");
          break;
        case 5:
          n.attributes.push_back(parse_attribute(r.message(
              f, ::pare::detail::concat(r.path(), ".attribute[", n.attributes.size(), "]"))));
          break;
        default:
          break;
      }
    }
    if (n.op_type.empty()) throw FormatError(file, r.path() + ".op_type", n.offset, "missing");
    return n;
  }

  OnnxAttribute parse_attribute(ProtoReader r) {
    OnnxAttribute a;
    ProtoField f;
    const std::string& p = r.path();
    while (r.next(f)) {
      switch (f.number) {
        case 1:
          a.name = r.as_string(f, p + ".name");
          break;
        case 20:
          a.type = static_cast<OnnxAttributeType>(r.as_int32(f, p + ".type"));
          break;
        case 2:
          a.f = r.as_float(f, p + ".f");
          break;
        case 3:
          a.i = r.as_int64(f, p + ".i");
          break;
        case 4:
          a.s = r.as_string(f, p + ".s");
          break;
        case 5:
          a.t = std::make_shared<OnnxTensor>(parse_tensor(r.message(f, p + ".t")));
          break;
        case 7:
          r.append_fixed(f, a.floats, p + ".floats");
          break;
        case 8:
          r.append_varints(f, a.ints, p + ".ints");
          break;
        case 9:
          a.strings.push_back(r.as_string(f, p + ".strings"));
          break;
        default:
          break;  // g, graphs, sparse tensors, type protos: not needed by any op we run
      }
    }
    if (a.name.empty()) throw FormatError(file, p + ".name", r.base(), "attribute without a name");
    if (a.type == OnnxAttributeType::tensor && !a.t)
      throw FormatError(file, p + ".t", r.base(), "TENSOR attribute without a tensor");
    return a;
  }

  OnnxValueInfo parse_value_info(ProtoReader r) {
    OnnxValueInfo v;
    ProtoField f;
    const std::string p = r.path();
    while (r.next(f)) {
      if (f.number == 1) v.name = r.as_string(f, p + ".name");
      if (f.number != 2) continue;
      ProtoReader type = r.message(f, p + ".type");
      ProtoField g;
      while (type.next(g)) {
        if (g.number != 1) continue;  // only tensor types
        ProtoReader tt = type.message(g, p + ".type.tensor_type");
        ProtoField h;
        while (tt.next(h)) {
          if (h.number == 1) v.elem_type = tt.as_int32(h, p + ".elem_type");
          if (h.number != 2) continue;
          v.has_shape = true;
          ProtoReader shape = tt.message(h, p + ".shape");
          ProtoField d;
          while (shape.next(d)) {
            if (d.number != 1) continue;
            ProtoReader dim = shape.message(d, p + ".shape.dim");
            ProtoField e;
            std::int64_t value = -1;
            while (dim.next(e))
              if (e.number == 1) value = dim.as_int64(e, p + ".shape.dim.dim_value");
            v.shape.push_back(value < 0 ? -1 : value);
          }
        }
      }
    }
    return v;
  }

  OnnxTensor parse_tensor(ProtoReader r) {
    OnnxTensor t;
    t.offset = r.base();
    const std::string p = r.path();
    std::int32_t data_type = 0;
    std::optional<std::span<const std::byte>> raw;
    std::uint64_t raw_offset = 0;
    std::vector<float> floats;
    std::vector<double> doubles;
    std::vector<std::int64_t> ints;  // int32_data, int64_data, uint64_data (as bits)
    bool external = false;
    std::map<std::string, std::string> ext;
    ProtoField f;
    while (r.next(f)) {
      switch (f.number) {
        case 1:
          r.append_varints(f, t.dims, p + ".dims");
          break;
        case 2:
          data_type = r.as_int32(f, p + ".data_type");
          break;
        case 8:
          t.name = r.as_string(f, p + ".name");
          break;
        case 9:
          r.expect(f, WireType::length_delimited, p + ".raw_data");
          raw = f.bytes;
          raw_offset = f.bytes_offset;
          break;
        case 4:
          r.append_fixed(f, floats, p + ".float_data");
          break;
        case 10:
          r.append_fixed(f, doubles, p + ".double_data");
          break;
        case 5:
        case 7:
        case 11:
          r.append_varints(f, ints, p + ".typed_data");
          break;
        case 3:
          throw UnsupportedError(file + ": " + p + " is segmented; pare does not read that");
        case 13: {
          ProtoReader e = r.message(f, p + ".external_data");
          ProtoField g;
          std::string key, value;
          while (e.next(g)) {
            if (g.number == 1) key = e.as_string(g, p + ".external_data.key");
            if (g.number == 2) value = e.as_string(g, p + ".external_data.value");
          }
          ext[key] = value;
          break;
        }
        case 14:
          external = r.as_int64(f, p + ".data_location") == 1;
          break;
        default:
          break;
      }
    }
    const std::string where = t.name.empty() ? p : p + " '" + t.name + "'";
    if (data_type < 0 || data_type > 16)
      throw FormatError(file, where + ".data_type", t.offset,
                        ::pare::detail::concat("unknown data type ", data_type));
    t.dtype = static_cast<OnnxDataType>(data_type);
    const std::size_t width = onnx_element_size(t.dtype);
    if (width == 0)
      throw UnsupportedError(::pare::detail::concat(file, ": ", where, " has data type ",
                                                    name(t.dtype), ", which pare does not load"));
    std::uint64_t count = 1;
    for (auto d : t.dims) {
      if (d < 0)
        throw FormatError(file, where + ".dims", t.offset,
                          ::pare::detail::concat("negative dimension ", d));
      count = checked_mul(count, static_cast<std::uint64_t>(d), file, where + ".dims", t.offset);
    }
    const std::uint64_t bytes = checked_mul(count, width, file, where + ".dims", t.offset);
    if (external) {
      const std::span<const std::byte> src = external_bytes(ext, bytes, where, t.offset);
      t.data.assign(src.begin(), src.end());
      return t;
    }
    if (raw) {
      if (raw->size() != bytes)
        throw FormatError(file, where + ".raw_data", raw_offset,
                          ::pare::detail::concat("holds ", raw->size(), " bytes, dims ", count,
                                                 " x ", width, " bytes need ", bytes));
      t.data.assign(raw->begin(), raw->end());
      return t;
    }
    // Typed fields: the count is bounded by the bytes already parsed, so checking it before
    // allocating `data` keeps the allocation within what the file holds.
    const std::size_t have = floats.size() + doubles.size() + ints.size();
    if (have != count)
      throw FormatError(file, where + ".typed_data", t.offset,
                        ::pare::detail::concat("holds ", have, " values, dims need ", count));
    t.data.resize(static_cast<std::size_t>(bytes));
    std::byte* out = t.data.data();
    for (std::size_t i = 0; i < count; ++i, out += width) {
      switch (t.dtype) {
        case OnnxDataType::float32:
          if (floats.size() != count) typed_mismatch(where, "float_data", t.offset);
          store_le(out, std::bit_cast<std::uint32_t>(floats[i]));
          break;
        case OnnxDataType::float64:
          if (doubles.size() != count) typed_mismatch(where, "double_data", t.offset);
          store_le(out, std::bit_cast<std::uint64_t>(doubles[i]));
          break;
        case OnnxDataType::int64:
          if (ints.size() != count) typed_mismatch(where, "int64_data", t.offset);
          store_le(out, static_cast<std::uint64_t>(ints[i]));
          break;
        case OnnxDataType::int32:
          if (ints.size() != count) typed_mismatch(where, "int32_data", t.offset);
          store_le(out, static_cast<std::uint32_t>(ints[i]));
          break;
        case OnnxDataType::float16:
        case OnnxDataType::bfloat16:
          if (ints.size() != count) typed_mismatch(where, "int32_data", t.offset);
          store_le(out, static_cast<std::uint16_t>(ints[i]));
          break;
        default:  // int8, uint8, bool: one value per int32
          if (ints.size() != count) typed_mismatch(where, "int32_data", t.offset);
          *out = static_cast<std::byte>(static_cast<std::uint8_t>(ints[i]));
          break;
      }
    }
    return t;
  }

  [[noreturn]] void typed_mismatch(const std::string& where, const char* field,
                                   std::uint64_t at) const {
    throw FormatError(file, where + "." + field, at,
                      "the tensor's values are in a field that does not match its data type");
  }

  /// The bytes of an external tensor, from a file that must stay inside the model's folder.
  std::span<const std::byte> external_bytes(const std::map<std::string, std::string>& ext,
                                            std::uint64_t bytes, const std::string& where,
                                            std::uint64_t at) {
    const std::string field = where + ".external_data";
    if (!folder)
      throw FormatError(file, field, at, "external data needs the model's folder (open a path)");
    auto loc = ext.find("location");
    if (loc == ext.end() || loc->second.empty())
      throw FormatError(file, field, at, "external data without a location");
    auto number = [&](const char* key, std::uint64_t fallback) -> std::uint64_t {
      auto it = ext.find(key);
      if (it == ext.end()) return fallback;
      const std::string& s = it->second;
      if (s.empty() || s.size() > 19 || s.find_first_not_of("0123456789") != std::string::npos)
        throw FormatError(file, field + "." + key, at,
                          "'" + s + "' is not a non-negative decimal integer");
      return std::stoull(s);
    };
    const std::uint64_t offset = number("offset", 0);
    const std::uint64_t length = number("length", bytes);
    if (length != bytes)
      throw FormatError(
          file, field + ".length", at,
          ::pare::detail::concat("length ", length, " but dims need ", bytes, " bytes"));
    namespace fs = std::filesystem;
    const fs::path rel(loc->second);
    std::error_code ec;
    const fs::path root = fs::weakly_canonical(*folder, ec);
    const fs::path target = fs::weakly_canonical(*folder / rel, ec);
    bool inside = !ec && !rel.is_absolute();
    if (inside) {
      auto r = root.begin(), t = target.begin();
      for (; r != root.end(); ++r, ++t)
        if (t == target.end() || *r != *t) {
          inside = false;
          break;
        }
      inside = inside && t != target.end();
    }
    if (!inside)
      throw FormatError(file, field + ".location", at,
                        "'" + loc->second + "' resolves outside the model's folder; refused");
    auto it = external.find(loc->second);
    if (it == external.end()) it = external.emplace(loc->second, MappedFile::open(target)).first;
    const std::span<const std::byte> all = it->second.bytes();
    const std::uint64_t end = checked_add(offset, length, file, field + ".offset", at);
    if (end > all.size())
      throw FormatError(file, field + ".offset", at,
                        ::pare::detail::concat("bytes [", offset, ", ", end, ") of '", loc->second,
                                               "' but it holds ", all.size()));
    return all.subspan(static_cast<std::size_t>(offset), static_cast<std::size_t>(length));
  }
};

}  // namespace detail

PARE_INLINE std::vector<float> OnnxTensor::to_float() const {
  std::vector<float> out(size());
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<float>(element(i));
  return out;
}

PARE_INLINE std::vector<std::int64_t> OnnxTensor::to_int64() const {
  std::vector<std::int64_t> out(size());
  for (std::size_t i = 0; i < out.size(); ++i) {
    const double v = element(i);
    // saturating: casting an out-of-range or NaN double is undefined behaviour
    if (dtype == OnnxDataType::int64)
      out[i] = int64_at(i);
    else if (std::isnan(v))
      out[i] = 0;
    else if (v >= 9.2233720368547758e18)
      out[i] = INT64_MAX;
    else if (v <= -9.2233720368547758e18)
      out[i] = INT64_MIN;
    else
      out[i] = static_cast<std::int64_t>(v);
  }
  return out;
}

PARE_INLINE std::int64_t OnnxModel::opset() const {
  auto it = opsets.find("");
  if (it == opsets.end()) it = opsets.find("ai.onnx");
  return it == opsets.end() ? 0 : it->second;
}

PARE_INLINE const OnnxTensor& OnnxModel::initializer(std::string_view n) const {
  const OnnxTensor* t = find_initializer(n);
  PARE_CHECK(t != nullptr, ArgumentError, "the ONNX model has no initializer '", n, "'");
  return *t;
}

PARE_INLINE OnnxModel parse_onnx(std::span<const std::byte> bytes, std::string name,
                                 std::optional<std::filesystem::path> folder) {
  detail::OnnxParser p{std::move(name), std::move(folder), {}};
  return p.parse(bytes);
}

PARE_INLINE OnnxTensor parse_onnx_tensor(std::span<const std::byte> bytes, std::string name) {
  detail::OnnxParser p{std::move(name), std::nullopt, {}};
  return p.parse_tensor(detail::ProtoReader(bytes, p.file, "TensorProto"));
}

PARE_INLINE OnnxModel OnnxModel::open(const std::filesystem::path& path) {
  const MappedFile f = MappedFile::open(path);
  return parse_onnx(f.bytes(), f.name(), path.parent_path().empty() ? "." : path.parent_path());
}

}  // namespace pare::io
