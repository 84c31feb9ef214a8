// SPDX-License-Identifier: Apache-2.0
// pare CLI — the model commands: quantize, prune, eval, bench.
//
// What a model file holds decides what runs (models.hpp): a pare.sequential layer stack is
// compressed layer by layer; a graph (ONNX, pare.graph) is compressed by pare::compress (its
// Gemm, MatMul and Conv nodes) and written as a pare.graph .pare; both are evaluated and
// benchmarked as what they are; a file of tensors is refused unless `--as relu-mlp` says it is
// the state_dict of a ReLU MLP.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "data.hpp"
#include "models.hpp"
#include "pare/core/random.hpp"
#include "pare/io/layer_io.hpp"
#include "pare/io/load_model.hpp"
#include "pare/nn/graph/compress.hpp"
#include "pare/nn/metrics.hpp"
#include "pare/nn/trainer.hpp"
#include "pare/prune.hpp"
#include "pare/quant/gptq.hpp"
#include "pare/quant/mixed_precision.hpp"
#include "pare/simd/arch.hpp"

namespace pare_cli {

namespace fs = std::filesystem;
namespace io = pare::io;

/// "--key value" options after the positional arguments.
class Options {
 public:
  Options(const std::vector<std::string>& args, std::size_t first,
          std::initializer_list<const char*> allowed) {
    for (std::size_t i = first; i < args.size(); ++i) {
      const std::string& a = args[i];
      if (a.rfind("--", 0) != 0) throw UsageError("unexpected argument '" + a + "'");
      const std::string key = a.substr(2);
      if (std::find_if(allowed.begin(), allowed.end(), [&](const char* k) { return key == k; }) ==
          allowed.end())
        throw UsageError("unknown option '" + a + "'");
      if (i + 1 >= args.size()) throw UsageError("option '" + a + "' needs a value");
      values_[key] = args[++i];
    }
  }
  [[nodiscard]] std::string get(const std::string& key, std::string fallback = {}) const {
    const auto it = values_.find(key);
    return it == values_.end() ? fallback : it->second;
  }
  [[nodiscard]] bool has(const std::string& key) const { return values_.count(key) != 0; }
  [[nodiscard]] double number(const std::string& key, double fallback) const {
    if (!has(key)) return fallback;
    const std::string v = get(key);
    char* end = nullptr;
    const double d = std::strtod(v.c_str(), &end);
    if (v.empty() || *end != '\0' || !std::isfinite(d))
      throw UsageError("--" + key + " needs a number, got '" + v + "'");
    return d;
  }

 private:
  std::map<std::string, std::string> values_;
};

// ---- compressing layer stacks ------------------------------------------------------------

/// The layer stack `path` holds (or, with --as, the one its tensors are); graphs and bare
/// tensors are refused with what the file holds and what `command` takes.
inline AnyModel load_compressible(const std::string& path, const Options& opt,
                                  const std::string& command) {
  return load_layer_stack(open_model(path), tensors_as(opt.get("as")), command);
}

// Runs `visit(layer_index, linear, its input batch)` for every float Linear of `model`, feeding
// `x` through the float model to produce each layer's inputs.
template <class F>
void for_each_linear_input(const AnyModel& model, pare::Tensor<float, 2> x, F&& visit) {
  if (x.extent(1) != input_width(model))
    throw pare::ShapeError("the calibration inputs have " + std::to_string(x.extent(1)) +
                           " values per sample; the model takes " +
                           std::to_string(input_width(model)));
  for (std::size_t i = 0; i < model.size(); ++i) {
    if (const auto* fc = std::get_if<pare::Linear>(&model[i])) visit(i, *fc, x);
    x = std::visit([&](const auto& l) { return l.infer(x.view()); }, model[i]);
  }
}

inline std::size_t linear_count(const AnyModel& m) {
  std::size_t n = 0;
  for (const auto& l : m) n += std::holds_alternative<pare::Linear>(l);
  return n;
}

// ---- compressing graphs ---------------------------------------------------------------------

/// Calibration inputs for a graph: rows of a .npy/.npz (or a digits CSV) shaped as the model's
/// input, as eval shapes its samples.
inline pare::compress::Calibration graph_calibration(const std::string& spec, const pare::Model& m,
                                                     const ModelFile& f) {
  const auto [path, name] = detail::split_array_spec(spec);
  const auto format = io::detect_format(path);
  pare::Tensor<float, 2> rows;
  std::vector<std::size_t> sample;
  if (format == io::FileFormat::npy || format == io::FileFormat::npz) {
    auto r = detail::input_rows(detail::load_array(spec, "x"));
    rows = std::move(r.first);
    sample = std::move(r.second);
  } else {
    rows = load_calibration(spec);
    sample = {rows.extent(1)};
  }
  const GraphInput in = graph_input(m, f);
  pare::graph::Value v = pare::graph::Value::from(rows.view());
  v.shape = graph_input_shape(in, rows.extent(0), sample, spec);
  return {{in.name, std::move(v)}};
}

/// --nodes GLOBS, --exclude GLOBS, --skip first|last|first,last
inline pare::compress::NodeFilter node_filter(const Options& opt) {
  pare::compress::NodeFilter f;
  f.include = opt.get("nodes", "*");
  f.exclude = opt.get("exclude");
  const std::string skip = opt.get("skip");
  if (!skip.empty() && skip != "first" && skip != "last" && skip != "first,last" &&
      skip != "last,first")
    throw UsageError("--skip takes first, last or first,last; got '" + skip + "'");
  f.skip_first = skip.find("first") != std::string::npos;
  f.skip_last = skip.find("last") != std::string::npos;
  return f;
}

inline void check_graph_options(const ModelFile& f, const Options& opt) {
  if (opt.has("as"))
    throw UsageError("--as relu-mlp reads a file of tensors, but " + f.path.string() + " holds " +
                     f.holds + ": drop --as");
}

inline void print_graph_result(const fs::path& out, const pare::compress::Result& r) {
  std::fputs(r.summary().c_str(), stdout);
  std::size_t before = 0, after = 0;
  for (const auto& n : r.nodes) {
    before += n.bytes_before;
    after += n.bytes_after != 0 ? n.bytes_after : n.bytes_before;
  }
  std::printf(
      "wrote %s: pare.graph, %zu of %zu weight nodes compressed (%zu -> %zu bytes of "
      "weights), %ju bytes\n",
      out.c_str(), r.compressed(), r.nodes.size(), before, after,
      static_cast<std::uintmax_t>(fs::file_size(out)));
}

// ---- the commands ------------------------------------------------------------------------------

inline void print_saved(const fs::path& out, const AnyModel& m) {
  std::printf("wrote %s: %s, %zu stored weights, %ju bytes\n", out.c_str(), describe(m).c_str(),
              io::stored_parameter_count(m), static_cast<std::uintmax_t>(fs::file_size(out)));
}

/// The formats `--format mixed` chooses from, each one a layer type the tool runs: the planner's
/// error for a format is the error of exactly that layer's weights.
inline std::vector<pare::FormatCandidate> runnable_candidates() {
  std::vector<pare::FormatCandidate> c;
  c.push_back({"f32", [](pare::TensorView<const float, 2> w) { return pare::Tensor<float, 2>(w); },
               [](const pare::Shape<2>&) { return 32.0; }});
  c.push_back(
      pare::quantizer_candidate<pare::Quantizer<pare::Int<8>, pare::Symmetric, pare::PerChannel>>(
          "int8"));
  c.push_back({"int4_g32",
               [](pare::TensorView<const float, 2> w) {
                 const auto m = pare::pack_int4_blocks<pare::Q4G32>(w);
                 pare::Tensor<float, 2> d(w.extents());
                 for (std::size_t r = 0; r < m.rows(); ++r)
                   for (std::size_t k = 0; k < m.cols(); ++k) d(r, k) = m.value(r, k);
                 return d;
               },
               [](const pare::Shape<2>& s) { return 4.0 + 8.0 / 32.0 + 32.0 / (s[0] * s[1]); }});
  c.push_back(
      {"nf4_g64",
       [](pare::TensorView<const float, 2> w) { return pare::dequantize(pare::pack_nf4(w, 64)); },
       [](const pare::Shape<2>&) { return 4.0 + 32.0 / 64.0; }});
  return c;
}

/// pare quantize IN OUT --format mixed --bpw B [--override 'PATTERN=FORMAT,...'] [--calib FILE]
/// Per-layer formats from measured sensitivity (layer output error on the calibration inputs,
/// or weight error without them) meeting B bits per weight over the model; layers are named by
/// their index ("0", "2", ...). The plan is printed and recorded in the file's metadata.
inline int quantize_mixed(const std::vector<std::string>& args, const Options& opt) {
  if (!opt.has("bpw")) throw UsageError("--format mixed needs a target: --bpw BITS");
  const double bpw = opt.number("bpw", 0);
  if (!(bpw > 0)) throw UsageError("--bpw must be positive");
  std::vector<pare::FormatOverride> overrides;
  try {
    overrides = pare::parse_format_overrides(opt.get("override"));
  } catch (const pare::ArgumentError& e) {
    throw UsageError(std::string("--override: ") + e.what());
  }
  if (open_model(args[1]).kind == ModelKind::graph)
    throw UsageError(
        "--format mixed plans layer stacks; for a graph model use --format int8, "
        "int4 or nf4 with --nodes / --exclude to choose nodes");
  const AnyModel in = load_compressible(args[1], opt, "quantize");
  std::vector<pare::Tensor<float, 2>> inputs(in.size());
  if (opt.has("calib"))
    for_each_linear_input(in, load_calibration(opt.get("calib")),
                          [&](std::size_t i, const pare::Linear&, const auto& xi) {
                            inputs[i] = pare::Tensor<float, 2>(xi.view());
                          });
  std::vector<pare::LayerToPlan> layers;
  for (std::size_t i = 0; i < in.size(); ++i)
    if (const auto* fc = std::get_if<pare::Linear>(&in[i])) {
      pare::LayerToPlan l{std::to_string(i), fc->weight().view(), std::nullopt};
      if (opt.has("calib")) l.inputs = inputs[i].view();
      layers.push_back(l);
    }
  const auto plan = pare::plan_mixed_precision(layers, bpw, overrides, runnable_candidates());
  std::fputs(pare::to_string(plan).c_str(), stdout);
  AnyModel out;
  for (std::size_t i = 0; i < in.size(); ++i) {
    const auto* fc = std::get_if<pare::Linear>(&in[i]);
    if (!fc) {
      out.push_back(in[i]);
      continue;
    }
    const std::string& f = plan.format_of(std::to_string(i));
    if (f == "f32") out.push_back(*fc);
    if (f == "int8") out.push_back(pare::Int8Linear(*fc));
    if (f == "int4_g32") {
      if (fc->in_features() % 32 != 0)
        throw pare::ShapeError("layer " + std::to_string(i) +
                               ": int4_g32 needs inputs in "
                               "multiples of 32");
      out.push_back(pare::Int4Linear<pare::Q4G32>::from(*fc));
    }
    if (f == "nf4_g64") out.push_back(pare::Lut4Linear::from(*fc, 64));
  }
  io::save_model(out, args[2],
                 {{"pare.quantize", "format=mixed bpw=" + opt.get("bpw")},
                  {"pare.mixed_precision", pare::to_json(plan).dump()}});
  print_saved(args[2], out);
  return 0;
}

/// pare quantize IN OUT --format int8|int4|nf4 [--group G]
///                      [--calib FILE --method rtn|gptq|awq|smoothquant]
inline int quantize(const std::vector<std::string>& args) {
  if (args.size() < 3) throw UsageError("quantize needs IN and OUT");
  const Options opt(args, 3,
                    {"format", "group", "calib", "method", "bpw", "override", "as", "nodes",
                     "exclude", "skip", "activations"});
  const std::string format = opt.get("format", "int8");
  const std::string method = opt.get("method", "rtn");
  if (format == "mixed") return quantize_mixed(args, opt);
  if (format != "int8" && format != "int4" && format != "nf4")
    throw UsageError("--format must be int8, int4, nf4 or mixed, got '" + format + "'");
  if (opt.has("bpw") || opt.has("override"))
    throw UsageError("--bpw and --override go with --format mixed");
  if (method != "rtn" && method != "gptq" && method != "awq" && method != "smoothquant")
    throw UsageError("--method must be rtn, gptq, awq or smoothquant, got '" + method + "'");
  if (method != "rtn" && !opt.has("calib"))
    throw UsageError("--method " + method + " needs calibration inputs: --calib FILE");
  if (method == "awq" && format == "int8")
    throw UsageError("AWQ is for --format int4 or nf4; int8 takes --method smoothquant");
  if (method == "smoothquant" && format != "int8")
    throw UsageError("--method smoothquant is for --format int8; 4-bit formats take awq");
  if (method == "gptq" && format == "int8")
    throw UsageError("int8 is per-channel round-to-nearest; GPTQ is for --format int4 or nf4");
  const double group_d = opt.number("group", format == "nf4" ? 64 : 32);
  const auto group = static_cast<std::size_t>(group_d);
  if (group_d != static_cast<double>(group) || group == 0)
    throw UsageError("--group must be a positive integer");
  if (format == "int4" && group != 16 && group != 32 && group != 64 && group != 128)
    throw UsageError("int4 groups are 16, 32, 64 or 128 (pare's Q4G formats); got " +
                     std::to_string(group));
  const std::string activations = opt.get("activations", "dynamic");
  if (activations != "dynamic" && activations != "static")
    throw UsageError("--activations must be dynamic or static, got '" + activations + "'");
  if (activations == "static" && (format != "int8" || !opt.has("calib")))
    throw UsageError("--activations static is for --format int8 and needs --calib FILE");
  const ModelFile file = open_model(args[1]);
  if (file.kind == ModelKind::graph) {
    check_graph_options(file, opt);
    const pare::Model m = pare::load_model(file.path);
    pare::compress::QuantizeSpec spec;
    spec.format = format == "int8"   ? pare::compress::WeightFormat::int8
                  : format == "int4" ? pare::compress::WeightFormat::int4
                                     : pare::compress::WeightFormat::nf4;
    spec.group = group;
    spec.method = method == "gptq"          ? pare::compress::QuantMethod::gptq
                  : method == "awq"         ? pare::compress::QuantMethod::awq
                  : method == "smoothquant" ? pare::compress::QuantMethod::smoothquant
                                            : pare::compress::QuantMethod::rtn;
    spec.activations = activations == "static" ? pare::compress::Activations::calibrated
                                               : pare::compress::Activations::dynamic;
    spec.nodes = node_filter(opt);
    const bool calibrated = method != "rtn" || activations == "static";
    if (opt.has("calib") && !calibrated)
      std::fprintf(stderr,
                   "pare quantize: --calib is only used by --method gptq, awq, smoothquant and "
                   "--activations static; ignored\n");
    const auto r = pare::compress::quantize(
        m, spec,
        calibrated ? graph_calibration(opt.get("calib"), m, file) : pare::compress::Calibration{});
    pare::save_model(r.model, args[2],
                     {{"pare.quantize", "format=" + format + " group=" + std::to_string(group) +
                                            " method=" + method + " activations=" + activations}});
    print_graph_result(args[2], r);
    return 0;
  }
  if (opt.has("nodes") || opt.has("exclude") || opt.has("skip") || opt.has("activations"))
    throw UsageError("--nodes, --exclude, --skip and --activations are for graph models");
  if (method == "awq" || method == "smoothquant")
    throw UsageError("--method " + method + " is for graph models (ONNX or a graph .pare)");
  if (opt.has("calib") && method == "rtn")
    std::fprintf(stderr, "pare quantize: --calib is only used by --method gptq; ignored\n");

  const AnyModel in = load_compressible(args[1], opt, "quantize");
  std::vector<std::optional<pare::LayerHessian>> hessians(in.size());
  if (method == "gptq") {
    const auto x = load_calibration(opt.get("calib"));
    for_each_linear_input(in, x, [&](std::size_t i, const pare::Linear& fc, const auto& xi) {
      hessians[i].emplace(fc.in_features());
      hessians[i]->add(xi.view());
    });
  }
  AnyModel out;
  pare::ProgressBar bar(linear_count(in), "quantize");
  std::size_t done = 0;
  for (std::size_t i = 0; i < in.size(); ++i) {
    const auto* fc = std::get_if<pare::Linear>(&in[i]);
    if (!fc) {
      out.push_back(in[i]);
      continue;
    }
    if (format == "int8") {
      out.push_back(pare::Int8Linear(*fc));
    } else if (format == "nf4") {
      out.push_back(hessians[i] ? pare::Lut4Linear::from_gptq(*fc, *hessians[i], group)
                                : pare::Lut4Linear::from(*fc, group));
    } else {
      auto make = [&]<class F>(std::type_identity<F>) {
        out.push_back(hessians[i] ? pare::Int4Linear<F>::from_gptq(*fc, *hessians[i])
                                  : pare::Int4Linear<F>::from(*fc));
      };
      if (fc->in_features() % group != 0)
        throw pare::ShapeError("layer " + std::to_string(i) + " has " +
                               std::to_string(fc->in_features()) +
                               " inputs, not a multiple of --group " + std::to_string(group));
      if (group == 16) make(std::type_identity<pare::Q4G16>{});
      if (group == 32) make(std::type_identity<pare::Q4G32>{});
      if (group == 64) make(std::type_identity<pare::Q4G64>{});
      if (group == 128) make(std::type_identity<pare::Q4G128>{});
    }
    bar.update(++done, "layer " + std::to_string(i));
  }
  bar.finish();
  io::save_model(out, args[2],
                 {{"pare.quantize",
                   "format=" + format + " group=" + std::to_string(group) + " method=" + method}});
  print_saved(args[2], out);
  return 0;
}

/// pare prune IN OUT --sparsity S [--pattern unstructured|N:M] [--method magnitude|wanda|sparsegpt]
///                   [--calib FILE]
inline int prune(const std::vector<std::string>& args) {
  if (args.size() < 3) throw UsageError("prune needs IN and OUT");
  const Options opt(args, 3,
                    {"sparsity", "pattern", "method", "calib", "as", "nodes", "exclude", "skip"});
  const std::string pattern = opt.get("pattern", "unstructured");
  const std::string method = opt.get("method", "magnitude");
  const bool nm24 = pattern == "2:4";
  if (pattern != "unstructured" && !nm24)
    throw UsageError("--pattern must be unstructured or 2:4, got '" + pattern + "'");
  if (method != "magnitude" && method != "wanda" && method != "sparsegpt")
    throw UsageError("--method must be magnitude, wanda or sparsegpt, got '" + method + "'");
  if (method != "magnitude" && !opt.has("calib"))
    throw UsageError("--method " + method + " needs calibration inputs: --calib FILE");
  if (nm24 && opt.has("sparsity") && opt.number("sparsity", 0.5) != 0.5)
    throw UsageError("2:4 is 50% sparse; drop --sparsity or give 0.5");
  const double sparsity = opt.number("sparsity", nm24 ? 0.5 : -1);
  if (!(sparsity >= 0 && sparsity < 1))
    throw UsageError("--sparsity in [0, 1) is required for unstructured pruning");

  const ModelFile file = open_model(args[1]);
  if (file.kind == ModelKind::graph) {
    check_graph_options(file, opt);
    const pare::Model m = pare::load_model(file.path);
    pare::compress::PruneSpec spec;
    spec.sparsity = sparsity;
    spec.pattern =
        nm24 ? pare::compress::PrunePattern::nm_2_4 : pare::compress::PrunePattern::unstructured;
    spec.method = method == "wanda"       ? pare::compress::PruneMethod::wanda
                  : method == "sparsegpt" ? pare::compress::PruneMethod::sparsegpt
                                          : pare::compress::PruneMethod::magnitude;
    spec.nodes = node_filter(opt);
    const auto r =
        pare::compress::prune(m, spec,
                              method == "magnitude" ? pare::compress::Calibration{}
                                                    : graph_calibration(opt.get("calib"), m, file));
    char what[64];
    std::snprintf(what, sizeof what, "sparsity=%.3f", sparsity);
    pare::save_model(
        r.model, args[2],
        {{"pare.prune", std::string(what) + " pattern=" + pattern + " method=" + method}});
    print_graph_result(args[2], r);
    return 0;
  }
  if (opt.has("nodes") || opt.has("exclude") || opt.has("skip"))
    throw UsageError("--nodes, --exclude and --skip are for graph models");
  AnyModel in = load_compressible(args[1], opt, "prune");
  std::vector<pare::Tensor<float, 2>> calib_inputs(in.size());
  if (method != "magnitude")
    for_each_linear_input(in, load_calibration(opt.get("calib")),
                          [&](std::size_t i, const pare::Linear&, const auto& xi) {
                            calib_inputs[i] = pare::Tensor<float, 2>(xi.view());
                          });
  AnyModel out;
  pare::ProgressBar bar(linear_count(in), "prune");
  std::size_t done = 0;
  for (std::size_t i = 0; i < in.size(); ++i) {
    auto* fc = std::get_if<pare::Linear>(&in[i]);
    if (!fc) {
      out.push_back(in[i]);
      continue;
    }
    pare::Mask mask;
    if (method == "sparsegpt") {
      pare::LayerHessian h(fc->in_features());
      h.add(calib_inputs[i].view());
      auto r = nm24 ? pare::sparsegpt(fc->weight().view(), h.matrix(), pare::NM<2, 4>{})
                    : pare::sparsegpt(fc->weight().view(), h.matrix(), sparsity);
      if (r.status != pare::SparseGptStatus::ok)
        throw pare::ArgumentError("SparseGPT: the damped Hessian of layer " + std::to_string(i) +
                                  " is not positive definite (too few calibration samples?)");
      mask = std::move(r.mask);
    } else {
      const pare::Tensor<float, 1> norms =
          method == "wanda" ? pare::input_norms(calib_inputs[i].view()) : pare::Tensor<float, 1>();
      const pare::PruneContext ctx{.weights = fc->weight().view(), .input_norms = norms.view()};
      auto score = [&](auto pruner) { return pruner.mask(ctx, sparsity); };
      if (method == "wanda")
        mask = nm24 ? score(pare::Pruner<pare::Wanda, pare::NM<2, 4>>{})
                    : score(pare::Pruner<pare::Wanda, pare::Unstructured>{});
      else
        mask = nm24 ? score(pare::Pruner<pare::Magnitude, pare::NM<2, 4>>{})
                    : score(pare::Pruner<pare::Magnitude, pare::Unstructured>{});
    }
    if (nm24) {
      if (fc->in_features() % 4 != 0)
        throw pare::ShapeError("2:4 needs layer inputs in multiples of 4; layer " +
                               std::to_string(i) + " has " + std::to_string(fc->in_features()));
      out.push_back(pare::SparseLinear<pare::PackedNM<2, 4>>(*fc, mask.view()));
    } else {
      if (fc->in_features() > 65535)
        throw pare::ShapeError("CSR with 16-bit column indices holds at most 65535 inputs");
      out.push_back(pare::SparseLinear<pare::Csr<std::uint16_t>>(*fc, mask.view()));
    }
    bar.update(++done, "layer " + std::to_string(i));
  }
  bar.finish();
  char what[64];
  std::snprintf(what, sizeof what, "sparsity=%.3f", sparsity);
  io::save_model(out, args[2],
                 {{"pare.prune", std::string(what) + " pattern=" + pattern + " method=" + method}});
  print_saved(args[2], out);
  return 0;
}

// ---- running models on data ----------------------------------------------------------------

namespace detail {

// Logits [N, classes] of a graph for the samples, reshaped to its declared input.
inline pare::Tensor<float, 2> graph_logits(const ModelFile& f, const pare::Model& m,
                                           const Samples& s) {
  const GraphInput in = graph_input(m, f);
  pare::graph::Value v = pare::graph::Value::from(s.data.x.view());
  v.shape = graph_input_shape(in, s.data.x.extent(0), s.sample, s.source);
  const pare::graph::Value out = m.run(v);
  if (!out.is_float() || out.shape.size() != 2 || out.shape[0] != s.data.x.extent(0))
    throw pare::ShapeError(f.path.string() + ": output '" + m.graph().outputs.at(0) +
                           "' has shape " + dims_text(out.shape) + "; eval needs float logits [" +
                           std::to_string(s.data.x.extent(0)) + ", classes]");
  return out.to_tensor<2>();
}

// Logits of a layer stack, which takes flat rows of its input width.
inline pare::Tensor<float, 2> stack_logits(const AnyModel& m, const Samples& s) {
  const std::size_t width = input_width(m);
  if (s.data.x.extent(1) != width)
    throw pare::ShapeError("the inputs (" + s.source + ") have samples of shape " +
                           dims_text(s.sample) + " (" + std::to_string(s.data.x.extent(1)) +
                           " values); the model takes " + std::to_string(width) + " inputs");
  return m.infer(s.data.x.view());
}

inline void check_labels(const pare::Tensor<float, 2>& logits, const Samples& s) {
  const std::size_t classes = logits.extent(1);
  for (std::size_t i = 0; i < s.data.y.size(); ++i)
    if (static_cast<std::size_t>(s.data.y[i]) >= classes)
      throw pare::ArgumentError(s.source + ": label " + std::to_string(s.data.y[i]) +
                                " of sample " + std::to_string(i) + " is outside the model's " +
                                std::to_string(classes) + " classes");
}

// Median and p99 latency of `one(i)` over `iterations` calls, then samples per second of
// `batch()` (64 samples a call) for 300 ms.
template <class One, class Batch>
void time_model(std::size_t iterations, One&& one, Batch&& batch) {
  std::vector<double> us(iterations);
  for (std::size_t i = 0; i < 50; ++i) one(i);  // warm-up
  for (std::size_t i = 0; i < iterations; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    one(i);
    us[i] =
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
  }
  std::sort(us.begin(), us.end());
  const auto t0 = std::chrono::steady_clock::now();
  std::size_t batches = 0;
  while (std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(300)) {
    batch();
    ++batches;
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("  one sample: median %.2f us, p99 %.2f us (%zu runs)\n", us[us.size() / 2],
              us[us.size() * 99 / 100], iterations);
  std::printf("  batch of 64: %.0f samples/s\n", static_cast<double>(batches * 64) / s);
}

}  // namespace detail

/// pare eval MODEL [DATA] [--inputs X --labels Y] [--split all|train|test] [--as relu-mlp]
inline int eval(const std::vector<std::string>& args) {
  if (args.size() < 2) throw UsageError("eval needs MODEL and data");
  const bool positional = args.size() >= 3 && !args[2].starts_with("--");
  const Options opt(args, positional ? 3 : 2, {"split", "inputs", "labels", "as"});
  const TensorsAs as = tensors_as(opt.get("as"));
  const Samples s = load_samples(positional ? args[2] : std::string(), opt.get("inputs"),
                                 opt.get("labels"), opt.get("split", "all"));
  const ModelFile f = open_model(args[1]);
  const auto t0 = std::chrono::steady_clock::now();
  pare::Tensor<float, 2> logits;
  std::string what;
  if (f.kind == ModelKind::graph) {
    if (as != TensorsAs::refuse)
      throw UsageError("--as relu-mlp reads a file of tensors, but " + f.path.string() + " holds " +
                       f.holds + ": drop --as");
    logits = detail::graph_logits(f, pare::load_model(f.path), s);
    what = f.label;
  } else {
    const AnyModel m = load_layer_stack(f, as, "eval");
    logits = detail::stack_logits(m, s);
    what = describe(m);
  }
  detail::check_labels(logits, s);
  const double acc = pare::accuracy(logits.view(), s.data.y.view());
  const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("%s (%s): accuracy %.2f %% on %zu samples (%.1f ms)\n", args[1].c_str(), what.c_str(),
              100 * acc, s.data.y.size(), sec * 1e3);
  return 0;
}

/// pare bench MODEL [--iterations N] [--as relu-mlp]
inline int bench(const std::vector<std::string>& args) {
  if (args.size() < 2) throw UsageError("bench needs MODEL");
  const Options opt(args, 2, {"iterations", "as"});
  const auto iterations = static_cast<std::size_t>(opt.number("iterations", 2000));
  if (iterations == 0) throw UsageError("--iterations must be positive");
  const TensorsAs as = tensors_as(opt.get("as"));
  const ModelFile f = open_model(args[1]);
  pare::Rng rng(1);
  if (f.kind == ModelKind::graph) {
    if (as != TensorsAs::refuse)
      throw UsageError("--as relu-mlp reads a file of tensors, but " + f.path.string() + " holds " +
                       f.holds + ": drop --as");
    const pare::Model m = pare::load_model(f.path);
    const GraphInput in = graph_input(m, f);
    std::vector<std::size_t> sample;
    for (std::size_t d = 1; d < in.declared.size(); ++d) {
      if (in.declared[d] <= 0) {
        sample.clear();
        break;
      }
      sample.push_back(static_cast<std::size_t>(in.declared[d]));
    }
    if (sample.empty())
      throw pare::UnsupportedError(
          f.path.string() + ": bench draws random inputs of the shape " +
          "the model declares, and its input '" + in.name + "' has " +
          (in.declared.empty() ? std::string("none") : "shape " + dims_text(in.declared)));
    auto random_input = [&](std::size_t n) {
      std::vector<std::size_t> shape{n};
      shape.insert(shape.end(), sample.begin(), sample.end());
      pare::graph::Value v = pare::graph::Value::zeros(shape);
      for (float& x : v.floats) x = rng.normal();
      return v;
    };
    const pare::graph::Value one = random_input(1), batch = random_input(64);
    std::printf("%s: %s\n  cpu: %s\n", args[1].c_str(), f.label.c_str(),
                pare::simd::cpu_report().c_str());
    detail::time_model(
        iterations, [&](std::size_t) { (void)m.run(one); }, [&] { (void)m.run(batch); });
    return 0;
  }
  const AnyModel m = load_layer_stack(f, as, "bench");
  const std::size_t width = input_width(m);
  pare::Tensor<float, 2> x({64, width});
  for (float& v : x.span()) v = rng.normal();
  std::vector<float> y(m.output_size(width));
  const pare::TensorView<float, 1> yv(y.data(), {y.size()});
  std::printf("%s: %s\n  cpu: %s\n", args[1].c_str(), describe(m).c_str(),
              pare::simd::cpu_report().c_str());
  detail::time_model(
      iterations, [&](std::size_t i) { m.infer(x.view()[i % 64], yv); },
      [&] { (void)m.infer(x.view()); });
  return 0;
}

}  // namespace pare_cli
