// SPDX-License-Identifier: Apache-2.0
// pare demo — the whole deployment story on the UCI digits (8×8 images, 10 classes):
//
//   1. train a teacher CNN;
//   2. train the student MLP alone and distilled from the teacher, over 5 seeds each;
//   3. prune the distilled student (80 % unstructured, and 2:4), fine-tuning with masks;
//   4. quantize it (int8 per channel, int4 per group of 32 with GPTQ);
//   5. save every model as .pare (the student also as safetensors), reload it by mmap, and
//      check the predictions are identical;
//   6. print one table and write it, with a plot of accuracy against size, to docs/results.md.
//
//   demo [data-dir] [results-dir]     (defaults: pare's examples/data, and no results written)
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <numeric>
#include <string>
#include <vector>

#include "digits_models.hpp"
#include "pare/distill.hpp"
#include "pare/io/digits.hpp"
#include "pare/io/layer_io.hpp"
#include "pare/io/state_dict.hpp"
#include "pare/nn/adam.hpp"
#include "pare/nn/batches.hpp"
#include "pare/nn/linear_int4.hpp"
#include "pare/nn/linear_int8.hpp"
#include "pare/nn/lr_schedule.hpp"
#include "pare/nn/metrics.hpp"
#include "pare/nn/sparse_linear.hpp"
#include "pare/nn/trainer.hpp"
#include "pare/prune.hpp"
#include "pare/quant/gptq.hpp"
#include "pare/sparse.hpp"
#include "svg_plot.hpp"

#ifndef PARE_EXAMPLES_DATA_DIR  // relative to the repository root, where scripts/demo.sh runs it
#define PARE_EXAMPLES_DATA_DIR "examples/data"
#endif

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using pare::examples::DigitsMlp;

constexpr std::size_t teacher_epochs = 30;
constexpr std::size_t student_epochs = 30;
constexpr std::size_t finetune_epochs = 15;
constexpr int seeds = 5;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Mean time of a single-sample forward pass (the path an application calls per request).
template <class Model>
double latency_us(const Model& model, const pare::Dataset& data) {
  volatile std::int32_t sink = 0;
  for (std::size_t i = 0; i < 200; ++i) sink = pare::predict(model, data.x[i % data.size()]);
  const std::size_t n = 20000;
  const auto t0 = Clock::now();
  for (std::size_t i = 0; i < n; ++i) sink = pare::predict(model, data.x[i % data.size()]);
  (void)sink;
  return seconds_since(t0) * 1e6 / static_cast<double>(n);
}

template <class Model>
std::vector<std::int32_t> predictions(const Model& model, const pare::Dataset& data) {
  std::vector<std::int32_t> p(data.size());
  for (std::size_t i = 0; i < data.size(); ++i) p[i] = pare::predict(model, data.x[i]);
  return p;
}

struct Row {
  std::string stage;
  std::size_t parameters = 0;  // stored weights (non-zero ones for a sparse model)
  std::uintmax_t bytes = 0;    // of the saved .pare file
  double accuracy = 0;         // percent
  double accuracy_std = -1;    // over seeds; < 0: a single model
  double latency = 0;          // microseconds per sample
};

std::string mean_std(double mean, double std) {
  char buf[48];
  if (std < 0)
    std::snprintf(buf, sizeof buf, "%.2f %%", mean);
  else
    std::snprintf(buf, sizeof buf, "%.2f ± %.2f %%", mean, std);
  return buf;
}

void print_row(const Row& r) {
  std::printf("%-34s %10zu %10ju %16s %10.2f\n", r.stage.c_str(), r.parameters, r.bytes,
              mean_std(r.accuracy, r.accuracy_std).c_str(), r.latency);
}

double mean(const std::vector<double>& v) {
  return std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
}
double stddev(const std::vector<double>& v) {
  const double m = mean(v);
  double s = 0;
  for (double x : v) s += (x - m) * (x - m);
  return std::sqrt(s / static_cast<double>(v.size() - 1));  // sample std, as numpy's ddof=1
}

// Hinton-style distillation loss for pare::train: soft targets from the teacher at T = 4 plus
// the ground truth.
template <class Teacher>
auto distillation_loss(const Teacher& teacher) {
  return [&teacher](pare::TensorView<const float, 2> logits,
                    const pare::Batch& b) -> pare::LossAndGrad {
    const pare::Tensor<float, 2> t = teacher.infer(b.x);
    const auto kd = 0.7 * pare::SoftKL{.temperature = 4} + 0.3 * pare::HardLabel{};
    auto r = pare::loss_and_grad(
        kd, {.student_logits = logits, .teacher_logits = t.view(), .labels = b.y.view()});
    return {r.loss, std::move(r.logits_grad)};
  };
}

template <class Model, class Loss>
void fit(Model& model, const pare::Dataset& train, std::size_t epochs, std::uint64_t seed,
         Loss&& loss, const char* label, float lr = 3e-3f) {
  pare::Adam opt{.lr = lr};
  pare::BatchLoader loader(train, 32, seed);
  (void)pare::train(
      model, opt, loader, epochs, std::forward<Loss>(loss),
      {.lr_schedule = pare::CosineAnnealing{.base_lr = lr, .t_max = epochs}, .label = label});
}

// Prunes the three Linear layers of `mlp` with `Pattern` (magnitude scores) and fine-tunes with
// the masks held, distilling from the teacher again.
template <class Pattern, class Teacher>
std::array<pare::Mask, 3> prune_and_finetune(DigitsMlp& mlp, double sparsity,
                                             const Teacher& teacher, const pare::Dataset& train,
                                             const char* label) {
  const pare::Pruner<pare::Magnitude, Pattern> pruner;
  std::array<pare::Mask, 3> masks{pruner.mask({.weights = mlp.layer<0>().weight()}, sparsity),
                                  pruner.mask({.weights = mlp.layer<2>().weight()}, sparsity),
                                  pruner.mask({.weights = mlp.layer<4>().weight()}, sparsity)};
  pare::MaskedOptimizer opt{pare::Adam{.lr = 1e-3f}};
  opt.set_mask(mlp.layer<0>().weight(), masks[0]);
  opt.set_mask(mlp.layer<2>().weight(), masks[1]);
  opt.set_mask(mlp.layer<4>().weight(), masks[2]);
  pare::BatchLoader loader(train, 32, 11);
  (void)pare::train(mlp, opt, loader, finetune_epochs, distillation_loss(teacher),
                    {.label = label});
  return masks;
}

template <class Model>
std::size_t stored_weights(const Model& m) {
  return pare::io::stored_parameter_count(m);
}

}  // namespace

int main(int argc, char** argv) try {
  const auto t_start = Clock::now();
  const std::string dir = argc > 1 ? argv[1] : PARE_EXAMPLES_DATA_DIR;
  const fs::path results = argc > 2 ? fs::path(argv[2]) : fs::path();
  const fs::path work = fs::temp_directory_path() / "pare-demo";
  fs::create_directories(work);
  const auto [train, test] = pare::train_test_split(pare::load_digits(dir + "/digits.csv"));
  std::printf("digits: %zu train, %zu test samples of %zu pixels\n\n", train.size(), test.size(),
              train.features());
  std::vector<Row> rows;

  // 1. The teacher.
  pare::Rng rng(42);
  auto teacher = pare::examples::make_digits_teacher(rng);
  fit(teacher, train, teacher_epochs, 7, pare::CrossEntropy{}, "teacher");
  pare::save_model(teacher, work / "teacher.pare");
  rows.push_back({"teacher CNN (f32)", teacher.parameter_count(),
                  fs::file_size(work / "teacher.pare"), 100 * pare::accuracy(teacher, test), -1,
                  latency_us(teacher, test)});

  // 2. The student, alone and distilled, over the same five seeds.
  std::vector<double> alone, distilled;
  std::optional<DigitsMlp> student;  // the distilled student of the first seed goes on
  for (int s = 0; s < seeds; ++s) {
    pare::Rng r1(100 + s), r2(100 + s);
    auto a = pare::examples::make_digits_student(r1);
    fit(a, train, student_epochs, 1000 + s, pare::CrossEntropy{}, "student alone");
    alone.push_back(100 * pare::accuracy(a, test));
    auto d = pare::examples::make_digits_student(r2);
    fit(d, train, student_epochs, 1000 + s, distillation_loss(teacher), "student distilled");
    distilled.push_back(100 * pare::accuracy(d, test));
    if (s == 0) student.emplace(std::move(d));
  }
  pare::save_model(*student, work / "student.pare");
  const auto bytes_f32 = fs::file_size(work / "student.pare");
  const double lat_f32 = latency_us(*student, test);
  rows.push_back({"student MLP alone (5 seeds)", student->parameter_count(), bytes_f32, mean(alone),
                  stddev(alone), lat_f32});
  rows.push_back({"student MLP distilled (5 seeds)", student->parameter_count(), bytes_f32,
                  mean(distilled), stddev(distilled), lat_f32});

  // Saves `model`, reloads it by mmap as the same type, and checks it predicts exactly the same.
  auto deploy = [&](const std::string& stage, const auto& model, const char* file) {
    using Model = std::remove_cvref_t<decltype(model)>;
    pare::save_model(model, work / file);
    const Model reloaded = pare::load_model<Model>(work / file);
    if (predictions(reloaded, test) != predictions(model, test))
      throw pare::Error(std::string("reloaded ") + file + " predicts differently");
    rows.push_back({stage, stored_weights(reloaded), fs::file_size(work / file),
                    100 * pare::accuracy(reloaded, test), -1, latency_us(reloaded, test)});
  };
  deploy("distilled student (seed 0, f32)", *student, "student_f32.pare");
  {
    // The same weights as a safetensors state_dict (what PyTorch's load_state_dict reads), loaded
    // into a freshly initialized student.
    pare::io::save_state(*student, work / "student.safetensors");
    pare::Rng other(999);
    auto fresh = pare::examples::make_digits_student(other);
    (void)pare::io::load_state(fresh, work / "student.safetensors");
    if (predictions(fresh, test) != predictions(*student, test))
      throw pare::Error("the student reloaded from safetensors predicts differently");
  }

  // 3. Pruning with fine-tuning, deployed in sparse formats.
  {
    DigitsMlp p = *student;
    const auto m = prune_and_finetune<pare::Unstructured>(p, 0.8, teacher, train, "prune 80%");
    using Csr = pare::SparseLinear<pare::Csr<std::uint16_t>>;
    deploy("pruned 80% unstructured (CSR)",
           pare::Sequential{Csr(p.layer<0>(), m[0].view()), pare::ReLU{},
                            Csr(p.layer<2>(), m[1].view()), pare::ReLU{},
                            Csr(p.layer<4>(), m[2].view())},
           "pruned80.pare");
  }
  {
    DigitsMlp p = *student;
    const auto m = prune_and_finetune<pare::NM<2, 4>>(p, 0.5, teacher, train, "prune 2:4");
    using NM = pare::SparseLinear<pare::PackedNM<2, 4>>;
    deploy(
        "pruned 2:4 (packed N:M)",
        pare::Sequential{NM(p.layer<0>(), m[0].view()), pare::ReLU{}, NM(p.layer<2>(), m[1].view()),
                         pare::ReLU{}, NM(p.layer<4>(), m[2].view())},
        "pruned24.pare");
  }

  // 4. Quantization of the distilled student.
  deploy("int8 per-channel (W8A8 dynamic)",
         pare::Sequential{pare::Int8Linear(student->layer<0>()), pare::ReLU{},
                          pare::Int8Linear(student->layer<2>()), pare::ReLU{},
                          pare::Int8Linear(student->layer<4>())},
         "int8.pare");
  {
    // GPTQ needs each layer's inputs: run the float student on the training set.
    const pare::Tensor<float, 2> x0(train.x);
    const auto x1 = pare::ReLU{}.infer(student->layer<0>().infer(x0));
    const auto x2 = pare::ReLU{}.infer(student->layer<2>().infer(x1));
    auto gptq = [](const pare::Linear& fc, const pare::Tensor<float, 2>& x) {
      pare::LayerHessian h(fc.in_features());
      h.add(x.view());
      return pare::Int4Linear<pare::Q4G32>::from_gptq(fc, h);
    };
    deploy(
        "int4 group-32 (GPTQ)",
        pare::Sequential{gptq(student->layer<0>(), x0), pare::ReLU{}, gptq(student->layer<2>(), x1),
                         pare::ReLU{}, gptq(student->layer<4>(), x2)},
        "int4.pare");
  }

  // 5. The table.
  std::printf("\n%-34s %10s %10s %16s %10s\n", "stage", "parameters", "bytes", "test accuracy",
              "µs/sample");
  for (const Row& r : rows) print_row(r);
  std::printf(
      "\nevery model above was saved as .pare (the student also as safetensors), reloaded "
      "by mmap, and predicted the %zu test digits exactly as before saving.\n",
      test.size());
  std::printf("total %.1f s\n", seconds_since(t_start));

  if (!results.empty()) {
    fs::create_directories(results / "img");
    std::vector<pare_examples::PlotPoint> points;
    for (const Row& r : rows)
      if (r.stage.find("alone") == std::string::npos)
        points.push_back({r.stage, static_cast<double>(r.bytes), r.accuracy});
    pare_examples::write_scatter_svg((results / "img" / "results_accuracy_vs_size.svg").string(),
                                     points,
                                     {.title = "digits: test accuracy against bytes on disk",
                                      .x_label = "bytes of the .pare file (log scale)",
                                      .y_label = "test accuracy (%)",
                                      .log_x = true});
    std::ofstream md(results / "results.md");
    md << "# Results of the README demo\n\n"
       << "Written by `examples/demo.cpp` (run `scripts/demo.sh`); numbers from the last run on "
       << pare::simd::cpu_report() << ".\n\n"
       << "| stage | parameters | bytes on disk | test accuracy | µs / sample |\n"
       << "|---|---:|---:|---:|---:|\n";
    for (const Row& r : rows)
      md << "| " << r.stage << " | " << r.parameters << " | " << r.bytes << " | "
         << mean_std(r.accuracy, r.accuracy_std) << " | " << std::fixed << std::setprecision(2)
         << r.latency << " |\n";
    md << "\n"
       << "Latency is the mean of 20,000 single-sample calls on one core and doubles when the "
          "machine is\n"
       << "busy. The int4 layers of this tiny 64-wide student run the int4 kernels' scalar tail "
          "(they work\n"
       << "on 128-weight blocks), so int4 is slower than f32 here; the bandwidth-bound speedups "
          "are for\n"
       << "large layers (docs/kernels-int4.md).\n"
       << "\n![accuracy against size](img/results_accuracy_vs_size.svg)\n";
  }
  return 0;
} catch (const pare::Error& e) {
  std::fprintf(stderr, "demo: %s\n", e.what());
  return 1;
}
