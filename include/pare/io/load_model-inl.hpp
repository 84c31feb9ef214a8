// SPDX-License-Identifier: Apache-2.0
// pare — definitions for io/load_model.hpp: compiled once into pare::compiled, or included by the
// header (core/config.hpp explains the two modes).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "pare/core/config.hpp"

#include "pare/core/error.hpp"
#include "pare/core/json.hpp"
#include "pare/io/detect.hpp"
#include "pare/io/load_model.hpp"

namespace pare::io {

namespace detail {
/// The runtime type of an ONNX element type, nullopt for one no runtime value holds.
[[nodiscard]] inline std::optional<graph::ValueType> value_type(OnnxDataType t) noexcept {
  switch (t) {
    case OnnxDataType::float32:
      return graph::ValueType::f32;
    case OnnxDataType::int8:
      return graph::ValueType::i8;
    case OnnxDataType::uint8:
      return graph::ValueType::u8;
    case OnnxDataType::int32:
      return graph::ValueType::i32;
    case OnnxDataType::int64:
      return graph::ValueType::i64;
    case OnnxDataType::boolean:
      return graph::ValueType::boolean;
    default:
      return std::nullopt;
  }
}
}  // namespace detail

PARE_INLINE graph::Value to_value(const OnnxTensor& t) {
  std::vector<std::size_t> shape(t.dims.begin(), t.dims.end());
  graph::Value v;
  switch (t.dtype) {
    case OnnxDataType::float64:
      // pare computes in float32: running a double tensor there would quietly change the model
      throw UnsupportedError("tensor '" + t.name +
                             "' is float64; pare runs float32 graphs and does not narrow it");
    case OnnxDataType::float32:
    case OnnxDataType::float16:  // widened exactly: 16-bit weights, float32 arithmetic
    case OnnxDataType::bfloat16:
      v.floats = t.to_float();
      v.shape = std::move(shape);
      return v;
    case OnnxDataType::int8:
      v.type = graph::ValueType::i8;
      break;
    case OnnxDataType::uint8:
      v.type = graph::ValueType::u8;
      break;
    case OnnxDataType::int32:
      v.type = graph::ValueType::i32;
      break;
    case OnnxDataType::int64:
      v.type = graph::ValueType::i64;
      break;
    case OnnxDataType::boolean:
      v.type = graph::ValueType::boolean;
      break;
    default:
      throw UnsupportedError("tensor '" + t.name + "' of type " + std::string(name(t.dtype)) +
                             " cannot be a runtime value");
  }
  v.ints = t.to_int64();
  v.shape = std::move(shape);
  return v;
}

PARE_INLINE graph::Graph to_graph(const OnnxModel& m, std::string source) {
  graph::Graph g;
  g.source = std::move(source);
  g.opset = m.opset();
  for (const auto& t : m.initializers) {
    if (g.constants.contains(t.name))
      throw FormatError(g.source, "graph.initializer", t.offset,
                        "initializer '" + t.name + "' is defined twice");
    g.constants.emplace(t.name, to_value(t));
  }
  // The graph's declared interface must be one pare keeps: a caller who feeds float64 or float16
  // values, or expects them back, would get float32 results under the same names.
  std::string narrowed;
  auto check_declared = [&](const OnnxValueInfo& v, const char* what) {
    const auto t = static_cast<OnnxDataType>(v.elem_type);
    if (t == OnnxDataType::float64 || t == OnnxDataType::float16 || t == OnnxDataType::bfloat16)
      narrowed += ::pare::detail::concat("\n  ", what, " '", v.name, "' is declared ", name(t));
  };
  for (const auto& in : m.inputs)
    if (!g.constants.contains(in.name)) check_declared(in, "input");
  for (const auto& out : m.outputs) check_declared(out, "output");
  if (!narrowed.empty())
    throw UnsupportedError(g.source +
                           ": pare runs float32 graphs; the model's interface is not:" + narrowed);
  bool shapes = false;
  bool types = false;
  for (const auto& in : m.inputs)
    if (!g.constants.contains(in.name)) {
      g.inputs.push_back(in.name);
      g.input_shapes.push_back(in.has_shape ? in.shape : std::vector<std::int64_t>{});
      shapes = shapes || in.has_shape;
      g.input_types.push_back(detail::value_type(static_cast<OnnxDataType>(in.elem_type)));
      types = types || g.input_types.back().has_value();
    }
  if (!shapes) g.input_shapes.clear();
  if (!types) g.input_types.clear();
  for (const auto& out : m.outputs) g.outputs.push_back(out.name);
  for (const auto& n : m.nodes) {
    graph::GraphNode node;
    node.op_type = n.op_type;
    node.name = n.name;
    node.domain = n.domain;
    node.inputs = n.inputs;
    node.outputs = n.outputs;
    node.offset = n.offset;
    node.attrs = graph::Attributes(n.name.empty() ? n.op_type : n.name);
    for (const auto& a : n.attributes) {
      graph::Attribute x;
      using K = graph::Attribute::Kind;
      switch (a.type) {
        case OnnxAttributeType::float32:
          x.kind = K::float32;
          x.f = a.f;
          break;
        case OnnxAttributeType::int64:
          x.kind = K::int64;
          x.i = a.i;
          break;
        case OnnxAttributeType::string:
          x.kind = K::string;
          x.s = a.s;
          break;
        case OnnxAttributeType::floats:
          x.kind = K::floats;
          x.floats = a.floats;
          break;
        case OnnxAttributeType::ints:
          x.kind = K::ints;
          x.ints = a.ints;
          break;
        case OnnxAttributeType::strings:
          x.kind = K::strings;
          x.strings = a.strings;
          break;
        case OnnxAttributeType::tensor:
          x.kind = K::tensor;
          x.t = std::make_shared<const graph::Value>(to_value(*a.t));
          break;
        default:
          x.kind = K::other;
          break;
      }
      node.attrs.set(a.name, std::move(x));
    }
    g.nodes.push_back(std::move(node));
  }
  return g;
}

}  // namespace pare::io

namespace pare::io::detail {

/// Adds `v` as tensor `name`; the Value must outlive save().
inline void add_value(PareWriter& w, const std::string& name, const graph::Value& v) {
  std::vector<std::uint64_t> shape(v.shape.begin(), v.shape.end());
  const graph::Value* p = &v;
  w.add_generated(name, graph::dtype(v.type), std::move(shape), [p](const PareWriter::Emit& emit) {
    if (p->is_float()) {
      emit(std::as_bytes(std::span(p->floats)));
      return;
    }
    const std::size_t width = p->type == graph::ValueType::i64   ? 8
                              : p->type == graph::ValueType::i32 ? 4
                                                                 : 1;
    std::vector<std::byte> buf(p->ints.size() * width);
    for (std::size_t i = 0; i < p->ints.size(); ++i) {
      const auto u = static_cast<std::uint64_t>(p->ints[i]);
      for (std::size_t k = 0; k < width; ++k)
        buf[i * width + k] = static_cast<std::byte>((u >> (8 * k)) & 0xFFu);
    }
    emit(buf);
  });
}

/// Tensor `name` of a .pare file as a runtime value.
[[nodiscard]] inline graph::Value read_value(const PareFile& f, const std::string& name,
                                             const std::string& field) {
  if (!f.contains(name))
    throw FormatError(f.file().name(), field, 0, "names tensor '" + name + "', which is absent");
  const PareTensorInfo& i = f.info(name);
  graph::Value v;
  for (auto d : i.shape) v.shape.push_back(static_cast<std::size_t>(d));
  const std::size_t n = static_cast<std::size_t>(i.size());
  const std::byte* p = i.bytes.data();
  auto ints = [&](graph::ValueType t, std::size_t width, bool is_signed) {
    v.type = t;
    v.ints.resize(n);
    for (std::size_t k = 0; k < n; ++k) {
      std::uint64_t u = 0;
      for (std::size_t b = 0; b < width; ++b)
        u |= static_cast<std::uint64_t>(std::to_integer<unsigned>(p[k * width + b])) << (8 * b);
      if (is_signed && width < 8 && (u >> (8 * width - 1)) != 0) u |= ~0ull << (8 * width);
      v.ints[k] = static_cast<std::int64_t>(u);
    }
  };
  switch (i.dtype) {
    case DType::f32:
      v.floats.resize(n);
      if (n != 0) std::memcpy(v.floats.data(), p, n * sizeof(float));
      break;
    case DType::i8:
      ints(graph::ValueType::i8, 1, true);
      break;
    case DType::u8:
      ints(graph::ValueType::u8, 1, false);
      break;
    case DType::boolean:
      ints(graph::ValueType::boolean, 1, false);
      break;
    case DType::i32:
      ints(graph::ValueType::i32, 4, true);
      break;
    case DType::i64:
      ints(graph::ValueType::i64, 8, true);
      break;
    default:
      throw UnsupportedError(f.file().name() + ": tensor '" + name + "' of dtype " +
                             std::string(pare::name(i.dtype)) + " cannot be a graph value");
  }
  return v;
}

/// The JSON value at `key` of object `j`, of the expected kind, or FormatError naming it.
template <class Check>
const Json& member(const Json& j, const char* key, const std::string& file, const std::string& path,
                   Check ok, const char* want) {
  const Json* v = j.find(key);
  if (v == nullptr || !ok(*v))
    throw FormatError(file, path + "." + key, 0, std::string("missing or not ") + want);
  return *v;
}

[[nodiscard]] inline std::vector<std::string> strings(const Json& j, const std::string& file,
                                                      const std::string& path) {
  std::vector<std::string> out;
  for (const Json& s : j.as_array()) {
    if (!s.is_string()) throw FormatError(file, path, 0, "expected an array of strings");
    out.push_back(s.as_string());
  }
  return out;
}

}  // namespace pare::io::detail

namespace pare::io {

PARE_INLINE graph::Graph to_graph(const PareFile& f) {
  const std::string file = f.file().name();
  const Json& j = f.graph();
  if (const Json* kind = j.find("kind"); kind == nullptr || *kind != "pare.graph")
    throw UnsupportedError(file + ": this .pare file holds tensors but no pare.graph model");
  const auto is_arr = [](const Json& x) { return x.is_array(); };
  const auto is_int = [](const Json& x) { return x.is_int64(); };
  const auto is_str = [](const Json& x) { return x.is_string(); };
  const auto is_obj = [](const Json& x) { return x.is_object(); };
  const std::int64_t version =
      detail::member(j, "version", file, "graph", is_int, "an integer").as_int64();
  if (version != 1)
    throw UnsupportedError(file + ": pare.graph version " + std::to_string(version) +
                           " is newer than this reader (1)");
  graph::Graph g;
  g.source = file;
  g.opset = detail::member(j, "opset", file, "graph", is_int, "an integer").as_int64();
  g.inputs = detail::strings(detail::member(j, "inputs", file, "graph", is_arr, "an array"), file,
                             "graph.inputs");
  if (j.contains("input_shapes")) {
    const Json& shapes = j.at("input_shapes");
    if (!shapes.is_array() || shapes.size() != g.inputs.size())
      throw FormatError(file, "graph.input_shapes", 0,
                        ::pare::detail::concat("must be an array of one shape per input (",
                                               g.inputs.size(), ")"));
    for (const Json& s : shapes.as_array()) {
      std::vector<std::int64_t> dims;
      if (!s.is_array())
        throw FormatError(file, "graph.input_shapes", 0, "a shape is not an array");
      for (const Json& d : s.as_array()) {
        if (!d.is_int64() || d.as_int64() < -1)
          throw FormatError(file, "graph.input_shapes", 0, "a dimension is not an integer >= -1");
        dims.push_back(d.as_int64());
      }
      g.input_shapes.push_back(std::move(dims));
    }
  }
  if (j.contains("input_types")) {
    const Json& types = j.at("input_types");
    if (!types.is_array() || types.size() != g.inputs.size())
      throw FormatError(file, "graph.input_types", 0,
                        ::pare::detail::concat("must be an array of one type name per input (",
                                               g.inputs.size(), ")"));
    for (const Json& t : types.as_array()) {
      if (t.is_null()) {
        g.input_types.emplace_back();
        continue;
      }
      std::optional<graph::ValueType> found;
      for (graph::ValueType v :
           {graph::ValueType::f32, graph::ValueType::i8, graph::ValueType::u8,
            graph::ValueType::i32, graph::ValueType::i64, graph::ValueType::boolean})
        if (t.is_string() && t.as_string() == graph::name(v)) found = v;
      if (!found)
        throw FormatError(file, "graph.input_types", 0,
                          "a type is not null or one of float32, int8, uint8, int32, int64, bool");
      g.input_types.push_back(found);
    }
  }
  g.outputs = detail::strings(detail::member(j, "outputs", file, "graph", is_arr, "an array"), file,
                              "graph.outputs");
  for (const auto& c :
       detail::strings(detail::member(j, "constants", file, "graph", is_arr, "an array"), file,
                       "graph.constants"))
    g.constants[c] = detail::read_value(f, c, "graph.constants");
  const auto& nodes = detail::member(j, "nodes", file, "graph", is_arr, "an array");
  for (std::size_t k = 0; k < nodes.size(); ++k) {
    const std::string path = "graph.nodes[" + std::to_string(k) + "]";
    const auto& n = nodes[k];
    if (!n.is_object()) throw FormatError(file, path, 0, "expected an object");
    graph::GraphNode node;
    node.op_type = detail::member(n, "op", file, path, is_str, "a string").as_string();
    node.name = detail::member(n, "name", file, path, is_str, "a string").as_string();
    node.domain = detail::member(n, "domain", file, path, is_str, "a string").as_string();
    node.inputs = detail::strings(detail::member(n, "inputs", file, path, is_arr, "an array"), file,
                                  path + ".inputs");
    node.outputs = detail::strings(detail::member(n, "outputs", file, path, is_arr, "an array"),
                                   file, path + ".outputs");
    node.attrs = graph::Attributes(node.name.empty() ? node.op_type : node.name);
    for (const auto& [name, a] :
         detail::member(n, "attrs", file, path, is_obj, "an object").as_object()) {
      const std::string ap = path + ".attrs." + name;
      if (!a.is_object() || a.size() != 1) throw FormatError(file, ap, 0, "expected {kind: value}");
      graph::Attribute x;
      using K = graph::Attribute::Kind;
      const std::string& kind = a.as_object()[0].key;
      const Json& val = a.as_object()[0].value;
      try {
        if (kind == "f") {
          x.kind = K::float32;
          x.f = val.get<float>();
        } else if (kind == "i") {
          x.kind = K::int64;
          x.i = val.get<std::int64_t>();
        } else if (kind == "s") {
          x.kind = K::string;
          x.s = val.get<std::string>();
        } else if (kind == "floats") {
          x.kind = K::floats;
          x.floats = val.get<std::vector<float>>();
        } else if (kind == "ints") {
          x.kind = K::ints;
          x.ints = val.get<std::vector<std::int64_t>>();
        } else if (kind == "strings") {
          x.kind = K::strings;
          x.strings = val.get<std::vector<std::string>>();
        } else if (kind == "tensor") {
          x.kind = K::tensor;
          x.t = std::make_shared<const graph::Value>(
              detail::read_value(f, val.get<std::string>(), ap));
        } else {
          throw FormatError(file, ap, 0, "unknown attribute kind '" + kind + "'");
        }
      } catch (const JsonError& e) {
        throw FormatError(file, ap, 0, std::string("wrong value type: ") + e.what());
      }
      node.attrs.set(name, std::move(x));
    }
    g.nodes.push_back(std::move(node));
  }
  return g;
}

}  // namespace pare::io

namespace pare {

PARE_INLINE void save_model(const Model& m, const std::filesystem::path& path,
                            const std::map<std::string, std::string>& metadata) {
  const graph::Graph& g = m.graph();
  io::PareWriter w;
  Json j = Json::object(
      {{"kind", "pare.graph"}, {"version", 1}, {"opset", g.opset}, {"inputs", g.inputs}});
  if (!g.input_shapes.empty()) j["input_shapes"] = Json(g.input_shapes);
  if (!g.input_types.empty()) {
    Json types = Json::array();
    for (const auto& t : g.input_types)
      types.push_back(t ? Json(std::string(graph::name(*t))) : Json());
    j["input_types"] = std::move(types);
  }
  j["outputs"] = Json(g.outputs);
  Json constants = Json::array();
  for (const auto& [name, v] : g.constants) {
    io::detail::add_value(w, name, v);
    constants.push_back(name);
  }
  j["constants"] = std::move(constants);
  Json nodes = Json::array();
  for (std::size_t k = 0; k < g.nodes.size(); ++k) {
    const graph::GraphNode& n = g.nodes[k];
    Json node = Json::object({{"op", n.op_type},
                              {"name", n.name},
                              {"domain", n.domain},
                              {"inputs", n.inputs},
                              {"outputs", n.outputs}});
    Json attrs = Json::object();
    for (const auto& [name, a] : n.attrs.all()) {
      using K = graph::Attribute::Kind;
      switch (a.kind) {
        case K::float32:
          attrs[name] = Json::object({{"f", a.f}});
          break;
        case K::int64:
          attrs[name] = Json::object({{"i", a.i}});
          break;
        case K::string:
          attrs[name] = Json::object({{"s", a.s}});
          break;
        case K::floats:
          attrs[name] = Json::object({{"floats", a.floats}});
          break;
        case K::ints:
          attrs[name] = Json::object({{"ints", a.ints}});
          break;
        case K::strings:
          attrs[name] = Json::object({{"strings", a.strings}});
          break;
        case K::tensor: {
          const std::string t = "graph.node" + std::to_string(k) + "." + name;
          io::detail::add_value(w, t, *a.t);
          attrs[name] = Json::object({{"tensor", t}});
          break;
        }
        case K::other:
          break;  // sub-graphs: no op pare runs uses them
      }
    }
    node["attrs"] = std::move(attrs);
    nodes.push_back(std::move(node));
  }
  j["nodes"] = std::move(nodes);
  w.set_graph(std::move(j));
  w.set_metadata("producer", "pare::save_model");
  for (const auto& [k, v] : metadata) w.set_metadata(k, v);
  w.save(path);
}

PARE_INLINE Model load_model(const std::filesystem::path& path, ModelOptions options) {
  const io::FileFormat f = io::detect_format(path);
  if (f == io::FileFormat::onnx) {
    const io::OnnxModel m = io::OnnxModel::open(path);
    return Model(io::to_graph(m, path.string()), options);
  }
  if (f == io::FileFormat::pare) {
    const io::PareFile file = io::PareFile::open(path);
    return Model(io::to_graph(file), options);
  }
  if (f == io::FileFormat::unknown)
    throw FormatError(path.string(), "magic", 0, "not a model format pare recognizes");
  throw UnsupportedError(path.string() + ": a " + std::string(io::name(f)) +
                         " file holds tensors, not a model graph; open it with its reader");
}

}  // namespace pare
