// SPDX-License-Identifier: Apache-2.0
// Load a trained model's weights, compress it three ways and save each result as .pare.
//
//   compress WEIGHTS [data-dir] [out-dir]
//
// WEIGHTS is the state of a 64-128-10 ReLU MLP (`0.weight`, `0.bias`, `2.weight`, `2.bias`) in
// .pare, safetensors or torch.save form; `-` trains one on the digits data first. The calibration
// and test data are the digits set (data-dir, default examples/data). Writes int8.pare,
// int4-gptq.pare and sparse-2of4.pare to out-dir (default: the current folder) and reloads each
// to check it predicts what was saved.
#include <cstdio>
#include <filesystem>
#include <string>

#include "pare/io/digits.hpp"
#include "pare/io/layer_io.hpp"
#include "pare/io/state_dict.hpp"
#include "pare/linalg/layer_hessian.hpp"
#include "pare/nn/adam.hpp"
#include "pare/nn/batches.hpp"
#include "pare/nn/linear.hpp"
#include "pare/nn/linear_int4.hpp"
#include "pare/nn/linear_int8.hpp"
#include "pare/nn/loss.hpp"
#include "pare/nn/metrics.hpp"
#include "pare/nn/relu.hpp"
#include "pare/nn/sequential.hpp"
#include "pare/nn/sparse_linear.hpp"
#include "pare/prune.hpp"
#include "pare/sparse/nm.hpp"

using Mlp = pare::Sequential<pare::Linear, pare::ReLU, pare::Linear>;

namespace {

void train(Mlp& model, const pare::Dataset& data) {
  pare::Adam opt{.lr = 1e-3f};
  pare::BatchLoader batches(data, 32, /*seed=*/7);
  for (int epoch = 0; epoch < 10; ++epoch)
    for (const pare::Batch& b : batches.epoch()) {
      model.zero_grad();
      auto [loss, grad] = pare::softmax_cross_entropy(model.forward(b.x), b.y);
      (void)model.backward(grad);
      opt.step(model.parameters());
    }
}

// Saves `model`, loads it back as the same type and checks that it predicts the same classes.
template <class M>
void save_and_check(const M& model, const std::filesystem::path& path, const pare::Dataset& test) {
  pare::save_model(model, path);
  const auto loaded = pare::load_model<M>(path);
  const bool same = pare::predict(loaded, test.x) == pare::predict(model, test.x);
  std::printf("%-18s %8.2f%% %10ju bytes  %s\n", path.filename().c_str(),
              100 * pare::accuracy(loaded, test), std::filesystem::file_size(path),
              same ? "reloaded: same predictions" : "reloaded: PREDICTIONS DIFFER");
  if (!same) throw pare::Error(path.string() + ": the reloaded model predicts differently");
}

}  // namespace

int main(int argc, char** argv) try {
  if (argc < 2) {
    std::fprintf(stderr, "usage: compress WEIGHTS|- [data-dir] [out-dir]\n");
    return 2;
  }
  const std::string data_dir = argc > 2 ? argv[2] : "examples/data";
  const std::filesystem::path out = argc > 3 ? argv[3] : ".";
  const auto data = pare::train_test_split(pare::load_digits(data_dir + "/digits.csv"));

  pare::Rng rng(42);
  Mlp model{pare::Linear(64, 128, rng), pare::ReLU{}, pare::Linear(128, 10, rng)};
  if (std::string(argv[1]) == "-")
    train(model, data.train);
  else
    (void)pare::io::load_state(model, argv[1]);
  std::printf("%-18s %8.2f%%\n", "float", 100 * pare::accuracy(model, data.test));

  // int8: weights per output channel, activations per row at run time.
  const pare::Sequential int8{pare::Int8Linear(model.layer<0>()), pare::ReLU{},
                              pare::Int8Linear(model.layer<2>())};
  save_and_check(int8, out / "int8.pare", data.test);

  // int4 with GPTQ: each layer's Hessian from the inputs it sees on calibration data.
  pare::LayerHessian h0(64), h2(128);
  h0.add(data.train.x);
  h2.add(model.layer<1>().infer(model.layer<0>().infer(data.train.x)));
  const pare::Sequential int4{pare::Int4Linear<pare::Q4G32>::from_gptq(model.layer<0>(), h0),
                              pare::ReLU{},
                              pare::Int4Linear<pare::Q4G32>::from_gptq(model.layer<2>(), h2)};
  save_and_check(int4, out / "int4-gptq.pare", data.test);

  // 2:4 sparsity by magnitude, stored in the packed N:M format.
  const pare::Pruner<pare::Magnitude, pare::NM<2, 4>> pruner;
  const pare::Mask m0 = pruner.mask({.weights = model.layer<0>().weight()}, 0.5);
  const pare::Mask m2 = pruner.mask({.weights = model.layer<2>().weight()}, 0.5);
  using Sparse = pare::SparseLinear<pare::PackedNM<2, 4>>;
  const pare::Sequential sparse{Sparse(model.layer<0>(), m0), pare::ReLU{},
                                Sparse(model.layer<2>(), m2)};
  save_and_check(sparse, out / "sparse-2of4.pare", data.test);
  return 0;
} catch (const pare::Error& e) {
  std::fprintf(stderr, "compress: %s\n", e.what());
  return 1;
}
