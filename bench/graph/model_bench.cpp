// SPDX-License-Identifier: Apache-2.0
// Times pare's graph runtime on a model file and an input, the pare side of the comparison with
// ONNX Runtime (bench/onnxruntime/time_model.js runs the same model and input; scripts/
// bench-graph.sh runs both and prints the table).
//
//   pare_model_bench --model=FILE --input=X.npy [--name=NAME] [--quantize=int8[-static]]
//                    [--threads=N] [google benchmark flags]
//
// FILE is anything pare::load_model opens (ONNX, a graph .pare); X a float32 .npy fed to the
// model's first input. --quantize=int8 times the model pare::compress::quantize makes of it (int8
// weights, dynamic u8 activations); int8-static calibrates the activations on X itself. pare
// runs on N threads (default 1, the comparison with ONNX Runtime's one intra-op thread); the
// benchmark is named graph/NAME/<input shape>/tN.
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "../common/main.hpp"
#include "pare/core/parallel.hpp"
#include "pare/io/load_model.hpp"
#include "pare/io/npy.hpp"
#include "pare/nn/graph/compress.hpp"

namespace {

struct Args {
  std::string model, input, name, quantize, threads = "1";
};

// Takes --model, --input and --name out of argv (Google Benchmark rejects flags it does not know).
Args take_args(int& argc, char** argv) {
  Args a;
  int out = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string_view s = argv[i];
    auto value = [&](std::string_view key, std::string& dst) {
      if (!s.starts_with(key)) return false;
      dst = std::string(s.substr(key.size()));
      return true;
    };
    if (!value("--model=", a.model) && !value("--input=", a.input) && !value("--name=", a.name) &&
        !value("--quantize=", a.quantize) && !value("--threads=", a.threads))
      argv[out++] = argv[i];
  }
  argc = out;
  return a;
}

pare::graph::Value read_input(const std::string& path) {
  const pare::io::NpyArray a = pare::io::read_npy_array(path);
  PARE_CHECK(a.dtype == pare::DType::f32 && !a.fortran_order, pare::ArgumentError, path,
             ": the input must be a C-order float32 array");
  pare::graph::Value v;
  v.shape = a.shape;
  v.floats.resize(a.size());
  std::memcpy(v.floats.data(), a.data.data(), a.data.size());
  return v;
}

}  // namespace

int main(int argc, char** argv) try {
  Args args = take_args(argc, argv);
  if (args.model.empty() || args.input.empty()) {
    std::fprintf(stderr, "usage: %s --model=FILE --input=X.npy [--name=NAME] [benchmark flags]\n",
                 argv[0]);
    return 2;
  }
  if (args.name.empty()) {
    args.name = args.model.substr(args.model.find_last_of('/') + 1);
    args.name = args.name.substr(0, args.name.find('.'));
  }
  PARE_CHECK(args.quantize.empty() || args.quantize == "int8" || args.quantize == "int8-static",
             pare::ArgumentError, "--quantize takes int8 or int8-static, got '", args.quantize,
             "'");
  static const pare::graph::Value x = read_input(args.input);
  static const pare::Model model = [&] {
    pare::Model m = pare::load_model(args.model);
    if (args.quantize.empty()) return m;
    const bool calibrated = args.quantize == "int8-static";
    pare::compress::Calibration calib;
    if (calibrated) calib.emplace(m.graph().inputs.front(), x);
    pare::compress::Result r = pare::compress::quantize(
        m,
        {.format = pare::compress::WeightFormat::int8,
         .activations = calibrated ? pare::compress::Activations::calibrated
                                   : pare::compress::Activations::dynamic},
        calib);
    std::fprintf(stderr, "%zu of %zu weight nodes quantized\n", r.compressed(), r.nodes.size());
    return std::move(r.model);
  }();
  if (!args.quantize.empty()) args.name += "-" + args.quantize;
  std::string shape;
  for (std::size_t d : x.shape) shape += (shape.empty() ? "" : "x") + std::to_string(d);
  const std::size_t threads = std::stoul(args.threads);
  pare::set_num_threads(threads);
  benchmark::RegisterBenchmark(("graph/" + args.name + "/" + shape + "/t" + args.threads).c_str(),
                               [](benchmark::State& state) {
                                 for (auto _ : state) {
                                   pare::graph::Value y = model.run(x);
                                   benchmark::DoNotOptimize(y.floats.data());
                                 }
                               })
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime();
  pare::bench::add_context("model", args.model);
  return pare::bench::run(argc, argv);
} catch (const std::exception& e) {
  std::fprintf(stderr, "pare_model_bench: %s\n", e.what());
  return 1;
}
