// SPDX-License-Identifier: Apache-2.0
// pare CLI — what a model file holds, and loading it as exactly that.
//
// A file is one of three kinds, told by its own structure and never guessed from tensor names:
//   layer stack  a .pare written by pare::io::save_model ("pare.sequential": float, int8, 4-bit
//                or sparse layers) — every model command takes it;
//   graph        an ONNX model, or a .pare written by pare::save_model(pare::Model) ("pare.graph")
//                — eval and bench run it with pare's graph runtime; quantize and prune refuse it;
//   tensors      anything else pare reads (safetensors, torch.save, .npz, GGUF, HDF5, a .pare
//                without a graph): no model. A command runs one only when told what network the
//                tensors are: `--as relu-mlp` reads the state_dict of an nn.Sequential of Linear
//                layers with one ReLU between each pair ("0.weight", "0.bias", "2.weight", ...).
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <regex>
#include <string>
#include <utility>
#include <vector>

#include "files.hpp"
#include "pare/io/layer_io.hpp"
#include "pare/io/load_model.hpp"
#include "pare/nn/layer_stack.hpp"
#include "pare/nn/linear_int4.hpp"
#include "pare/nn/linear_int8.hpp"
#include "pare/nn/sparse_linear.hpp"
#include "pare/sparse.hpp"

namespace pare_cli {

/// Every layer type the tool reads, writes and runs.
using AnyModel =
    pare::LayerStack<pare::Linear, pare::ReLU, pare::Conv2d, pare::MaxPool2d, pare::AvgPool2d,
                     pare::Int8Linear, pare::Int4Linear<pare::Q4G16>, pare::Int4Linear<pare::Q4G32>,
                     pare::Int4Linear<pare::Q4G64>, pare::Int4Linear<pare::Q4G128>,
                     pare::Lut4Linear, pare::SparseLinear<pare::Csr<std::uint16_t>>,
                     pare::SparseLinear<pare::PackedNM<2, 4>>>;

enum class ModelKind { layer_stack, graph, tensors };

/// What `path` holds, as far as the model commands are concerned.
struct ModelFile {
  fs::path path;
  io::FileFormat format = io::FileFormat::unknown;
  ModelKind kind = ModelKind::tensors;
  std::string holds;  ///< "an ONNX graph (Gemm > Tanh > Gemm)", "a PyTorch checkpoint of 4 ..."
  std::string label;  ///< "ONNX graph: Gemm > Tanh > Gemm", for a run's report
};

namespace detail {

// "A > B > C" for short lists, "A > B > ... > Z (N nodes)" for long ones.
inline std::string op_chain(const std::vector<std::string>& ops) {
  std::string s;
  if (ops.size() <= 8) {
    for (const auto& o : ops) s += (s.empty() ? "" : " > ") + o;
    return s;
  }
  for (std::size_t i = 0; i < 4; ++i) s += (i ? " > " : "") + ops[i];
  return s + " > ... > " + ops.back() + " (" + std::to_string(ops.size()) + " nodes)";
}

inline std::string article(std::string_view what) {
  return std::string(what.find_first_of("AEIOUH.") == 0 ? "an " : "a ") + std::string(what);
}

}  // namespace detail

/// Opens `path` far enough to tell its kind. FormatError for a file pare does not read,
/// UnsupportedError for a .pare model of a kind this tool does not know.
inline ModelFile open_model(const fs::path& path) {
  ModelFile m{path, io::detect_format(path), ModelKind::tensors, {}, {}};
  if (m.format == io::FileFormat::onnx) {
    const auto f = io::OnnxModel::open(path);
    std::vector<std::string> ops;
    for (const auto& n : f.nodes) ops.push_back(n.op_type);
    m.kind = ModelKind::graph;
    m.holds = "an ONNX graph (" + detail::op_chain(ops) + ")";
    m.label = "ONNX graph: " + detail::op_chain(ops);
    return m;
  }
  if (m.format == io::FileFormat::pare) {
    const auto f = io::PareFile::open(path);
    const pare::Json& g = f.graph();
    if (g.is_object() && g.contains("kind")) {
      const pare::Json& k = g.at("kind");
      const std::string kind = k.is_string() ? k.as_string() : "?";
      std::vector<std::string> parts;
      // The loaders check the rest of the object; here only the kind decides.
      if (kind == "pare.sequential") {
        if (const pare::Json* layers = g.find("layers"); layers && layers->is_array())
          for (const pare::Json& l : layers->as_array()) parts.push_back(io::detail::layer_type(l));
        m.kind = ModelKind::layer_stack;
        m.holds = "a pare.sequential model (" + detail::op_chain(parts) + ")";
        m.label = detail::op_chain(parts);
        return m;
      }
      if (kind == "pare.graph") {
        if (const pare::Json* nodes = g.find("nodes"); nodes && nodes->is_array())
          for (const pare::Json& n : nodes->as_array()) {
            const pare::Json* op = n.is_object() ? n.find("op") : nullptr;
            parts.push_back(op && op->is_string() ? op->as_string() : "?");
          }
        m.kind = ModelKind::graph;
        m.holds = "a pare.graph model (" + detail::op_chain(parts) + ")";
        m.label = "pare.graph: " + detail::op_chain(parts);
        return m;
      }
      throw pare::UnsupportedError(path.string() + ": holds a model of kind '" + kind +
                                   "', which this tool does not know (it runs pare.sequential "
                                   "and pare.graph models)");
    }
  }
  const TensorFile t = read_tensors(path, /*load=*/false);
  m.holds = detail::article(io::name(m.format)) + " file of " + std::to_string(t.entries.size()) +
            " tensors and no model graph";
  return m;
}

/// How the model commands read a file of tensors: not at all, or as `--as` says.
enum class TensorsAs { refuse, relu_mlp };

inline TensorsAs tensors_as(const std::string& value) {
  if (value.empty()) return TensorsAs::refuse;
  if (value == "relu-mlp") return TensorsAs::relu_mlp;
  throw UsageError(
      "--as must be relu-mlp (the state_dict of an nn.Sequential of Linear layers "
      "with ReLU between them), got '" +
      value + "'");
}

namespace detail {

// A torch.save checkpoint seen through load_float (any real dtype becomes f32), under the
// names mlp_from_state uses for the other formats.
struct TorchAsFloat {
  io::TorchCheckpoint f;
  [[nodiscard]] const std::vector<std::string>& names() const { return f.names(); }
  [[nodiscard]] bool contains(const std::string& n) const { return f.contains(n); }
  template <class T, std::size_t R>
  [[nodiscard]] pare::Tensor<float, R> load(const std::string& n) const {
    return f.load_float<R>(n);
  }
};

// The state_dict of nn.Sequential(Linear, ReLU, Linear, ..., Linear): every tensor is
// "<i>.weight" [out, in] or "<i>.bias" [out], the indices are 0, 2, 4, ... (one parameterless
// module, the ReLU, between Linear layers), and each layer's inputs are the previous outputs.
// Anything else is a FormatError naming the tensor: a state_dict that is not this network.
template <class File>
AnyModel mlp_from_state(const File& f, const std::string& path) {
  const std::regex param(R"(^(\d{1,9})\.(weight|bias)$)");
  std::map<long, bool> layers;  // index -> has a bias
  for (const auto& n : f.names()) {
    std::smatch m;
    if (!std::regex_match(n, m, param))
      throw pare::FormatError(path, n, 0,
                              "is not '<i>.weight' or '<i>.bias': the file is not the state_dict "
                              "of an nn.Sequential MLP (--as relu-mlp)");
    const long i = std::stol(m[1]);
    if (m[2] == "weight") layers.emplace(i, false);
  }
  for (const auto& n : f.names())
    if (n.ends_with(".bias")) {
      const long i = std::stol(n.substr(0, n.find('.')));
      if (!layers.contains(i))
        throw pare::FormatError(path, n, 0,
                                "has no matching weight " + std::to_string(i) + ".weight");
    }
  if (layers.empty())
    throw pare::FormatError(path, "tensors", 0, "holds no '<i>.weight' tensors (--as relu-mlp)");
  AnyModel model;
  long expect = 0;
  std::size_t width = 0;
  for (const auto& [i, unused] : layers) {
    const std::string idx = std::to_string(i);
    if (i != expect)
      throw pare::FormatError(
          path, idx + ".weight", 0,
          expect == 0 ? "the first Linear layer is module " + idx +
                            ", not 0: the modules before it are unknown (--as relu-mlp reads "
                            "nn.Sequential(Linear, ReLU, Linear, ..., Linear))"
                      : "follows module " + std::to_string(expect - 2) +
                            ": --as relu-mlp reads exactly one ReLU between Linear layers "
                            "(modules 0, 2, 4, ...)");
    expect = i + 2;
    auto w = f.template load<float, 2>(idx + ".weight");
    auto b = f.contains(idx + ".bias") ? f.template load<float, 1>(idx + ".bias")
                                       : pare::Tensor<float, 1>(pare::Shape<1>{w.extent(0)}, 0.0f);
    if (b.extent(0) != w.extent(0))
      throw pare::FormatError(path, idx + ".bias", 0,
                              "has " + std::to_string(b.extent(0)) + " values for the " +
                                  std::to_string(w.extent(0)) + " outputs of " + idx + ".weight");
    if (i > 0 && w.extent(1) != width)
      throw pare::FormatError(path, idx + ".weight", 0,
                              "takes " + std::to_string(w.extent(1)) +
                                  " inputs, the layer before gives " + std::to_string(width));
    width = w.extent(0);
    pare::Linear fc(w.extent(1), w.extent(0));
    fc.weight() = std::move(w);
    fc.bias() = std::move(b);
    if (i > 0) model.push_back(pare::ReLU{});
    model.push_back(std::move(fc));
  }
  return model;
}

}  // namespace detail

/// The layer stack in `m`: a pare.sequential file as it is, or a file of tensors read as `as`
/// says. `command` names what refuses the others ("quantize").
inline AnyModel load_layer_stack(const ModelFile& m, TensorsAs as, const std::string& command) {
  const std::string file = m.path.string();
  if (m.kind != ModelKind::tensors && as != TensorsAs::refuse)
    throw UsageError("--as relu-mlp reads a file of tensors, but " + file + " holds " + m.holds +
                     ": drop --as");
  switch (m.kind) {
    case ModelKind::layer_stack:
      return io::load_layer_stack<AnyModel>(m.path);
    case ModelKind::graph:
      throw pare::UnsupportedError(file + " holds " + m.holds + ", which pare " + command +
                                   " runs through the graph path, not as a layer stack");
    case ModelKind::tensors:
      break;
  }
  if (as == TensorsAs::refuse)
    throw pare::UnsupportedError(
        file + " is " + m.holds +
        ": pare does not guess which network the tensors belong to. If they are the state_dict "
        "of an nn.Sequential of Linear layers with ReLU between them, say so with --as relu-mlp");
  switch (m.format) {
    case io::FileFormat::pare:
      return detail::mlp_from_state(io::PareFile::open(m.path), file);
    case io::FileFormat::safetensors:
      return detail::mlp_from_state(io::SafetensorsFile::open(m.path), file);
    case io::FileFormat::torch:
      return detail::mlp_from_state(detail::TorchAsFloat{io::TorchCheckpoint::open(m.path)}, file);
    default:
      throw pare::UnsupportedError("--as relu-mlp reads .pare, safetensors and PyTorch files; " +
                                   file + " is " + detail::article(io::name(m.format)) + " file");
  }
}

/// Width of the layer stack's input (the first layer that has one).
inline std::size_t input_width(const AnyModel& m) {
  for (const auto& l : m) {
    std::size_t w = 0;
    std::visit(
        [&](const auto& x) {
          if constexpr (requires { x.in_features(); }) w = x.in_features();
        },
        l);
    if (w) return w;
  }
  throw pare::FormatError("model", "layers", 0, "no layer has a known input width");
}

inline std::string describe(const AnyModel& m) {
  std::string s;
  for (const auto& l : m) {
    const std::string t = std::visit(
        [](const auto& x) {
          return std::string(io::LayerCodec<std::remove_cvref_t<decltype(x)>>::type);
        },
        l);
    s += (s.empty() ? "" : " > ") + t;
  }
  return s;
}

/// "[n, 1, 8, 8]" for a declared shape (-1: symbolic), "[360, 64]" for a real one.
template <class Dims>
std::string dims_text(const Dims& d) {
  std::string s = "[";
  for (std::size_t i = 0; i < d.size(); ++i) {
    const auto v = static_cast<long long>(d[i]);
    s += (i ? ", " : "") + (v < 0 ? std::string("n") : std::to_string(v));
  }
  return s + "]";
}

/// The single input of a graph model and the shape it declares (empty: none).
struct GraphInput {
  std::string name;
  std::vector<std::int64_t> declared;
};

inline GraphInput graph_input(const pare::Model& m, const ModelFile& f) {
  const auto& g = m.graph();
  if (g.inputs.size() != 1)
    throw pare::UnsupportedError(f.path.string() + " takes " + std::to_string(g.inputs.size()) +
                                 " inputs; the tool feeds models with one");
  return {g.inputs[0], g.input_shapes.empty() ? std::vector<std::int64_t>{} : g.input_shapes[0]};
}

/// The full input shape for `n` samples of `sample` shape: the model's declared shape when the
/// samples fit it — the same shape, or flat samples of the same element count, which fill it
/// in row-major order (a digits row of 64 values for an input [n, 1, 8, 8]) — else the
/// samples' own shape when the model declares none. ShapeError naming both otherwise.
inline std::vector<std::size_t> graph_input_shape(const GraphInput& in, std::size_t n,
                                                  const std::vector<std::size_t>& sample,
                                                  const std::string& what) {
  std::vector<std::size_t> shape{n};
  if (in.declared.empty()) {
    shape.insert(shape.end(), sample.begin(), sample.end());
    return shape;
  }
  const std::vector<std::int64_t> want(in.declared.begin() + 1, in.declared.end());
  std::size_t per = 1, have = 1;
  bool known = true;
  for (auto d : want) {
    known = known && d > 0;
    per *= d > 0 ? static_cast<std::size_t>(d) : 1;
  }
  for (auto d : sample) have *= d;
  bool same = want.size() == sample.size();
  for (std::size_t i = 0; same && i < want.size(); ++i)
    same = want[i] < 0 || static_cast<std::size_t>(want[i]) == sample[i];
  if (same) {
    shape.insert(shape.end(), sample.begin(), sample.end());
    return shape;
  }
  if (known && sample.size() == 1 && have == per) {
    for (auto d : want) shape.push_back(static_cast<std::size_t>(d));
    return shape;
  }
  throw pare::ShapeError("the inputs (" + what + ") have samples of shape " + dims_text(sample) +
                         "; the model's input '" + in.name + "' takes " + dims_text(in.declared));
}

}  // namespace pare_cli
