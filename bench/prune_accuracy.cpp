// SPDX-License-Identifier: Apache-2.0
// Digits accuracy against sparsity for each pruning criterion, with and without fine-tuning.
// Prints CSV (criterion,pattern,sparsity,finetuned,accuracy) for scripts/plot_prune_accuracy.py.
//
//   pare_prune_accuracy [data-dir] [finetune-epochs] [finetune-lr]
//       data-dir defaults to examples/data (run from the repository root)
//
// The model is examples/demo.cpp's MLP 64-128-64-10 trained 20 epochs with Adam. Every Linear
// layer is pruned to the same sparsity (LayerScope). Data-aware criteria see the training set:
// Wanda and SparseGPT its inputs to each layer (layer by layer, through the already-pruned earlier
// layers, as SparseGPT prunes a network), Taylor the mean gradient, OBD the empirical Fisher
// (mean squared per-batch gradient), movement −Σ W·G over one epoch of dense fine-tuning.
// Fine-tuning: Adam with the masks kept (MaskedOptimizer).
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "pare/io/digits.hpp"
#include "pare/nn/adam.hpp"
#include "pare/nn/batches.hpp"
#include "pare/nn/linear.hpp"
#include "pare/nn/loss.hpp"
#include "pare/nn/metrics.hpp"
#include "pare/nn/relu.hpp"
#include "pare/nn/sequential.hpp"
#include "pare/prune.hpp"

namespace {

using Mlp = pare::Sequential<pare::Linear, pare::ReLU, pare::Linear, pare::ReLU, pare::Linear>;

template <class Opt>
void train(Mlp& model, Opt& opt, const pare::Dataset& data, int epochs, std::uint64_t seed) {
  pare::BatchLoader batches(data, 32, seed);
  for (int e = 0; e < epochs; ++e)
    for (const pare::Batch& b : batches.epoch()) {
      model.zero_grad();
      auto [loss, grad] = pare::softmax_cross_entropy(model.forward(b.x), b.y);
      (void)model.backward(grad);
      opt.step(model.parameters());
    }
}

std::vector<pare::Linear*> linears(Mlp& m) { return {&m.layer<0>(), &m.layer<2>(), &m.layer<4>()}; }

// Gradients of the three weight matrices: the mean over batches (Taylor), the mean of squares
// (Fisher), both at fixed weights.
struct GradStats {
  std::vector<pare::Tensor<float, 2>> mean, fisher;
};
GradStats grad_stats(Mlp model, const pare::Dataset& data) {
  GradStats s;
  for (auto* fc : linears(model)) {
    s.mean.emplace_back(fc->weight().extents());
    s.fisher.emplace_back(fc->weight().extents());
  }
  pare::BatchLoader batches(data, 32, 3);
  const float inv = 1.0f / static_cast<float>(batches.size());
  for (const pare::Batch& b : batches.epoch()) {
    model.zero_grad();
    auto [loss, grad] = pare::softmax_cross_entropy(model.forward(b.x), b.y);
    (void)model.backward(grad);
    const auto ls = linears(model);
    for (std::size_t l = 0; l < 3; ++l) {
      const auto& g = ls[l]->weight_grad();
      for (std::size_t i = 0; i < g.size(); ++i) s.mean[l].data()[i] += inv * g.data()[i];
      pare::accumulate_fisher(s.fisher[l].view(), g, inv);
    }
  }
  return s;
}

// −Σ W·G over one epoch of dense training (movement pruning's score); trains `model` meanwhile.
std::vector<pare::Tensor<float, 2>> movement_scores(Mlp& model, const pare::Dataset& data) {
  std::vector<pare::Tensor<float, 2>> acc;
  for (auto* fc : linears(model)) acc.emplace_back(fc->weight().extents());
  pare::Adam opt{.lr = 5e-4f};
  pare::BatchLoader batches(data, 32, 5);
  for (const pare::Batch& b : batches.epoch()) {
    model.zero_grad();
    auto [loss, grad] = pare::softmax_cross_entropy(model.forward(b.x), b.y);
    (void)model.backward(grad);
    const auto ls = linears(model);
    for (std::size_t l = 0; l < 3; ++l)
      pare::accumulate_movement(acc[l].view(), ls[l]->weight(), ls[l]->weight_grad());
    opt.step(model.parameters());
  }
  return acc;
}

// The input of each Linear layer on `x`, through the (possibly already pruned) earlier layers.
pare::Tensor<float, 2> layer_input(const Mlp& m, std::size_t l, const pare::Tensor<float, 2>& x) {
  pare::Tensor<float, 2> h = x;
  if (l >= 1) h = m.layer<1>().infer(m.layer<0>().infer(h));
  if (l >= 2) h = m.layer<3>().infer(m.layer<2>().infer(h));
  return h;
}

enum class Pattern { unstructured, nm24 };

// Prunes `model` in place with criterion `name`; returns the masks.
std::vector<pare::Mask> prune(Mlp& model, const std::string& name, Pattern pattern, double sparsity,
                              const pare::Dataset& train) {
  std::vector<pare::Mask> masks;
  const GradStats stats =
      (name == "taylor" || name == "obd") ? grad_stats(model, train) : GradStats{};
  std::vector<pare::Tensor<float, 2>> movement;
  if (name == "movement") movement = movement_scores(model, train);
  const pare::Tensor<float, 2> calib(
      train.x.view().slice(0, 0, std::min<std::size_t>(512, train.size())));
  for (std::size_t l = 0; l < 3; ++l) {
    pare::Linear& fc = *linears(model)[l];
    pare::PruneContext ctx{.weights = fc.weight()};
    pare::Tensor<float, 1> norms;
    if (name == "taylor") ctx.grad = stats.mean[l];
    if (name == "obd") ctx.hessian_diag = stats.fisher[l];
    if (name == "movement") ctx.accumulated = movement[l];
    if (name == "wanda" || name == "sparsegpt") {
      const auto x = layer_input(model, l, calib);
      if (name == "sparsegpt") {
        pare::LayerHessian h(fc.in_features());
        h.add(x);
        const auto r = pattern == Pattern::nm24
                           ? pare::sparsegpt(fc.weight(), h.matrix(), pare::NM<2, 4>{})
                           : pare::sparsegpt(fc.weight(), h.matrix(), sparsity);
        if (r.status != pare::SparseGptStatus::ok) throw pare::Error("sparsegpt failed");
        masks.push_back(r.mask);
        continue;
      }
      norms = pare::input_norms(x);
      ctx.input_norms = norms;
    }
    auto mask_with = [&]<class C>(C criterion) {
      if (pattern == Pattern::nm24)
        return pare::Pruner<C, pare::NM<2, 4>>{.criterion = criterion}.mask(ctx, 0.5);
      if constexpr (std::is_same_v<C, pare::Wanda>)
        return pare::Pruner<C, pare::PerRow>{.criterion = criterion}.mask(ctx, sparsity);
      return pare::Pruner<C, pare::Unstructured>{.criterion = criterion}.mask(ctx, sparsity);
    };
    pare::Mask m;
    if (name == "magnitude")
      m = mask_with(pare::Magnitude{});
    else if (name == "random")
      m = mask_with(pare::Random{.seed = 1 + l});
    else if (name == "wanda")
      m = mask_with(pare::Wanda{});
    else if (name == "taylor")
      m = mask_with(pare::Taylor{});
    else if (name == "obd")
      m = mask_with(pare::Obd{});
    else if (name == "movement")
      m = mask_with(pare::Movement{});
    else
      throw pare::ArgumentError("unknown criterion " + name);
    pare::apply_mask(fc.weight(), m);
    masks.push_back(std::move(m));
  }
  return masks;
}

}  // namespace

int main(int argc, char** argv) try {
  const std::string dir = argc > 1 ? argv[1] : "examples/data";
  const int ft_epochs = argc > 2 ? std::atoi(argv[2]) : 20;
  const float ft_lr = argc > 3 ? std::strtof(argv[3], nullptr) : 1e-3f;
  const auto [train_set, test] = pare::train_test_split(pare::load_digits(dir + "/digits.csv"));
  pare::Rng rng(42);
  Mlp dense{pare::Linear(64, 128, rng), pare::ReLU{}, pare::Linear(128, 64, rng), pare::ReLU{},
            pare::Linear(64, 10, rng)};
  pare::Adam opt{.lr = 1e-3f};
  train(dense, opt, train_set, 20, 7);
  std::printf("criterion,pattern,sparsity,finetuned,accuracy\n");
  std::printf("dense,dense,0,0,%.4f\n", pare::accuracy(dense, test));
  const char* criteria[] = {"magnitude", "random", "wanda", "sparsegpt",
                            "movement",  "taylor", "obd"};
  const double sparsities[] = {0.5, 0.7, 0.8, 0.9, 0.95};
  for (const std::string name : criteria) {
    auto run = [&](Pattern pattern, double s) {
      Mlp model = dense;
      const auto masks = prune(model, name, pattern, s, train_set);
      const char* pname = pattern == Pattern::nm24 ? "2:4" : "unstructured";
      std::printf("%s,%s,%.2f,0,%.4f\n", name.c_str(), pname, s, pare::accuracy(model, test));
      pare::MaskedOptimizer ft{pare::Adam{.lr = ft_lr}};
      const auto ls = linears(model);
      for (std::size_t l = 0; l < 3; ++l) ft.set_mask(ls[l]->weight(), masks[l]);
      train(model, ft, train_set, ft_epochs, 11);
      std::printf("%s,%s,%.2f,1,%.4f\n", name.c_str(), pname, s, pare::accuracy(model, test));
      std::fflush(stdout);
    };
    for (double s : sparsities) run(Pattern::unstructured, s);
    run(Pattern::nm24, 0.5);
  }
  return 0;
} catch (const pare::Error& e) {
  std::fprintf(stderr, "prune_accuracy: %s\n", e.what());
  return 1;
}
