// SPDX-License-Identifier: Apache-2.0
// pare CLI — the model commands: quantize, prune, eval, bench.
//
// A model is either a file written by pare::io::save_model (a "pare.sequential" .pare holding
// float, quantized or sparse layers), a state_dict of a torch.nn.Sequential MLP (Linear layers
// "<i>.weight"/"<i>.bias" with ReLU between them) in .pare, safetensors or torch.save form, or
// (eval and bench only) an ONNX model run by pare's graph runtime.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "pare/io/digits.hpp"
#include "pare/io/layer_io.hpp"
#include "pare/io/load_model.hpp"
#include "pare/io/npy.hpp"
#include "pare/nn/dataset.hpp"
#include "pare/nn/layer_stack.hpp"
#include "pare/nn/linear_int4.hpp"
#include "pare/nn/linear_int8.hpp"
#include "pare/nn/metrics.hpp"
#include "pare/nn/sparse_linear.hpp"
#include "pare/nn/trainer.hpp"
#include "pare/prune.hpp"
#include "pare/quant/gptq.hpp"
#include "pare/quant/mixed_precision.hpp"
#include "pare/simd/arch.hpp"
#include "pare/sparse.hpp"

namespace pare_cli {

namespace fs = std::filesystem;
namespace io = pare::io;

/// Every layer type the tool reads, writes and runs.
using AnyModel =
    pare::LayerStack<pare::Linear, pare::ReLU, pare::Conv2d, pare::MaxPool2d, pare::AvgPool2d,
                     pare::Int8Linear, pare::Int4Linear<pare::Q4G16>, pare::Int4Linear<pare::Q4G32>,
                     pare::Int4Linear<pare::Q4G64>, pare::Int4Linear<pare::Q4G128>,
                     pare::Lut4Linear, pare::SparseLinear<pare::Csr<std::uint16_t>>,
                     pare::SparseLinear<pare::PackedNM<2, 4>>>;

/// Bad command-line arguments (exit code 2); file problems are pare::Error (exit code 1).
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

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

// ---- loading models and data -------------------------------------------------------------------

namespace detail {

// A torch.nn.Sequential MLP from its state_dict: "<i>.weight" [out, in] and "<i>.bias" [out],
// consecutive layers chained with ReLU.
template <class File>
AnyModel mlp_from_state(const File& f, const std::string& path) {
  const std::regex weight_name(R"(^(\d+)\.weight$)");
  std::vector<std::pair<long, std::string>> layers;
  for (const auto& n : f.names()) {
    std::smatch m;
    if (std::regex_match(n, m, weight_name)) layers.emplace_back(std::stol(m[1]), m[1]);
  }
  std::sort(layers.begin(), layers.end());
  if (layers.empty())
    throw pare::FormatError(path, "tensors", 0,
                            "holds no '<i>.weight' tensors: not a state_dict of an "
                            "nn.Sequential MLP, and no pare.sequential model graph");
  AnyModel model;
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const std::string& idx = layers[i].second;
    auto w = f.template load<float, 2>(idx + ".weight");
    auto b = f.contains(idx + ".bias") ? f.template load<float, 1>(idx + ".bias")
                                       : pare::Tensor<float, 1>(pare::Shape<1>{w.extent(0)}, 0.0f);
    if (b.extent(0) != w.extent(0))
      throw pare::FormatError(path, idx + ".bias", 0, "does not match " + idx + ".weight");
    pare::Linear fc(w.extent(1), w.extent(0));
    fc.weight() = std::move(w);
    fc.bias() = std::move(b);
    if (i > 0) model.push_back(pare::ReLU{});
    model.push_back(std::move(fc));
  }
  return model;
}

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

}  // namespace detail

/// The model in `path` as a LayerStack (see the file comment for what it may be).
inline AnyModel load_any(const fs::path& path) {
  switch (io::detect_format(path)) {
    case io::FileFormat::pare: {
      const auto f = io::PareFile::open(path);
      if (const pare::Json* kind = f.graph().find("kind"); kind && *kind == "pare.sequential")
        return io::load_layer_stack<AnyModel>(path);
      return detail::mlp_from_state(f, path.string());
    }
    case io::FileFormat::safetensors:
      return detail::mlp_from_state(io::SafetensorsFile::open(path), path.string());
    case io::FileFormat::torch:
      return detail::mlp_from_state(detail::TorchAsFloat{io::TorchCheckpoint::open(path)},
                                    path.string());
    default:
      throw pare::UnsupportedError(path.string() + ": is " +
                                   std::string(io::name(io::detect_format(path))) +
                                   "; this command reads pare models and MLP state_dicts "
                                   "(.pare, safetensors, torch.save)");
  }
}

/// Width of the model's input (the first layer that has one).
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

/// Labelled samples: the digits CSV format (pare::load_digits), optionally only the test split
/// the demo uses.
inline pare::Dataset load_data(const fs::path& path, const std::string& split) {
  pare::Dataset all = pare::load_digits(path);
  if (split == "all") return all;
  auto [train, test] = pare::train_test_split(std::move(all));
  if (split == "test") return std::move(test);
  if (split == "train") return std::move(train);
  throw UsageError("--split must be all, train or test, got '" + split + "'");
}

/// Calibration inputs [N, width]: a float .npy, or the features of a digits CSV.
inline pare::Tensor<float, 2> load_calibration(const fs::path& path) {
  if (io::detect_format(path) == io::FileFormat::npy) return io::read_npy<float, 2>(path);
  return pare::Tensor<float, 2>(pare::load_digits(path).x);
}

// Runs `visit(layer_index, linear, its input batch)` for every float Linear of `model`, feeding
// `x` through the float model to produce each layer's inputs.
template <class F>
void for_each_linear_input(const AnyModel& model, pare::Tensor<float, 2> x, F&& visit) {
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

// ---- the commands ------------------------------------------------------------------------------

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
  const AnyModel in = load_any(args[1]);
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

/// pare quantize IN OUT --format int8|int4|nf4 [--group G] [--calib FILE --method rtn|gptq]
inline int quantize(const std::vector<std::string>& args) {
  if (args.size() < 3) throw UsageError("quantize needs IN and OUT");
  const Options opt(args, 3, {"format", "group", "calib", "method", "bpw", "override"});
  const std::string format = opt.get("format", "int8");
  const std::string method = opt.get("method", "rtn");
  if (format == "mixed") return quantize_mixed(args, opt);
  if (format != "int8" && format != "int4" && format != "nf4")
    throw UsageError("--format must be int8, int4, nf4 or mixed, got '" + format + "'");
  if (opt.has("bpw") || opt.has("override"))
    throw UsageError("--bpw and --override go with --format mixed");
  if (method != "rtn" && method != "gptq")
    throw UsageError("--method must be rtn or gptq, got '" + method + "'");
  if (method == "gptq" && !opt.has("calib"))
    throw UsageError("--method gptq needs calibration inputs: --calib FILE");
  if (method == "gptq" && format == "int8")
    throw UsageError("int8 is per-channel round-to-nearest; GPTQ is for --format int4 or nf4");
  const double group_d = opt.number("group", format == "nf4" ? 64 : 32);
  const auto group = static_cast<std::size_t>(group_d);
  if (group_d != static_cast<double>(group) || group == 0)
    throw UsageError("--group must be a positive integer");
  if (format == "int4" && group != 16 && group != 32 && group != 64 && group != 128)
    throw UsageError("int4 groups are 16, 32, 64 or 128 (pare's Q4G formats); got " +
                     std::to_string(group));
  if (opt.has("calib") && method == "rtn")
    std::fprintf(stderr, "pare quantize: --calib is only used by --method gptq; ignored\n");

  const AnyModel in = load_any(args[1]);
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
  const Options opt(args, 3, {"sparsity", "pattern", "method", "calib"});
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

  AnyModel in = load_any(args[1]);
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

namespace detail {
// Logits of an ONNX model for samples [N, width], reshaped to its declared input shape.
inline pare::Tensor<float, 2> onnx_logits(const fs::path& path, const pare::Tensor<float, 2>& x) {
  const pare::Model m = pare::load_model(path);
  const auto info = io::OnnxModel::open(path);
  std::vector<std::size_t> shape{x.extent(0)};
  std::size_t per_sample = 1;
  if (!info.inputs.empty())
    for (std::size_t d = 1; d < info.inputs[0].shape.size(); ++d) {
      const auto e = info.inputs[0].shape[d];
      if (e <= 0) throw pare::UnsupportedError("the ONNX input has a symbolic non-batch dim");
      shape.push_back(static_cast<std::size_t>(e));
      per_sample *= static_cast<std::size_t>(e);
    }
  if (shape.size() == 1 || per_sample != x.extent(1)) shape = {x.extent(0), x.extent(1)};
  pare::graph::Value v = pare::graph::Value::from(x);
  v.shape = shape;
  return m.run(v).to_tensor<2>();
}
}  // namespace detail

/// pare eval MODEL DATA [--split all|train|test]
inline int eval(const std::vector<std::string>& args) {
  if (args.size() < 3) throw UsageError("eval needs MODEL and DATA");
  const Options opt(args, 3, {"split"});
  const pare::Dataset data = load_data(args[2], opt.get("split", "all"));
  const auto t0 = std::chrono::steady_clock::now();
  double acc = 0;
  std::string what;
  if (io::detect_format(args[1]) == io::FileFormat::onnx) {
    const auto logits = detail::onnx_logits(args[1], pare::Tensor<float, 2>(data.x));
    std::size_t correct = 0;
    for (std::size_t i = 0; i < data.size(); ++i) correct += pare::argmax(logits[i]) == data.y[i];
    acc = static_cast<double>(correct) / static_cast<double>(data.size());
    what = "ONNX graph";
  } else {
    const AnyModel m = load_any(args[1]);
    acc = pare::accuracy(m, data);
    what = describe(m);
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("%s (%s): accuracy %.2f %% on %zu samples (%.1f ms)\n", args[1].c_str(), what.c_str(),
              100 * acc, data.size(), s * 1e3);
  return 0;
}

/// pare bench MODEL [--iterations N]
inline int bench(const std::vector<std::string>& args) {
  if (args.size() < 2) throw UsageError("bench needs MODEL");
  const Options opt(args, 2, {"iterations"});
  const auto iterations = static_cast<std::size_t>(opt.number("iterations", 2000));
  if (iterations == 0) throw UsageError("--iterations must be positive");
  const AnyModel m = load_any(args[1]);
  const std::size_t width = input_width(m);
  pare::Rng rng(1);
  pare::Tensor<float, 2> x({64, width});
  for (float& v : x.span()) v = rng.normal();
  std::vector<float> y(m.output_size(width));
  const pare::TensorView<float, 1> yv(y.data(), {y.size()});
  std::vector<double> us(iterations);
  for (std::size_t i = 0; i < 50; ++i) m.infer(x.view()[i % 64], yv);  // warm-up
  for (std::size_t i = 0; i < iterations; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    m.infer(x.view()[i % 64], yv);
    us[i] =
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
  }
  std::sort(us.begin(), us.end());
  const auto t0 = std::chrono::steady_clock::now();
  std::size_t batches = 0;
  while (std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(300)) {
    (void)m.infer(x.view());
    ++batches;
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("%s: %s\n  cpu: %s\n", args[1].c_str(), describe(m).c_str(),
              pare::simd::cpu_report().c_str());
  std::printf("  one sample: median %.2f us, p99 %.2f us (%zu runs)\n", us[us.size() / 2],
              us[us.size() * 99 / 100], iterations);
  std::printf("  batch of 64: %.0f samples/s\n", static_cast<double>(batches * 64) / s);
  return 0;
}

}  // namespace pare_cli
