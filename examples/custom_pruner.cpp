// SPDX-License-Identifier: Apache-2.0
// A user-written pruning criterion, used with pare's built-in patterns and scopes, then deployed
// to sparse inference layers in one call.
//
//   custom_pruner [data-dir]      (default: examples/data, from the repository root)
//
// Any struct with `Tensor<float, 2> score(const PruneContext&) const` is a pare::PruningCriterion
// (higher score = more important). This one scores each weight relative to its row's mean
// magnitude, so that under a global ranking a layer with small weights is not emptied just for
// being small, and each output unit keeps its strongest inputs. The pattern of the Pruner names
// the sparse format (pare::deploy_format_t), so pare::prune_and_deploy returns layers that run
// on that format's kernel: 2:4 → SparseLinear<PackedNM<2, 4>>.
#include <cmath>
#include <cstdio>
#include <string>
#include <type_traits>
#include <vector>

#include "pare/io/digits.hpp"
#include "pare/nn/adam.hpp"
#include "pare/nn/batches.hpp"
#include "pare/nn/linear.hpp"
#include "pare/nn/loss.hpp"
#include "pare/nn/metrics.hpp"
#include "pare/nn/prune_deploy.hpp"
#include "pare/nn/relu.hpp"
#include "pare/nn/sequential.hpp"
#include "pare/prune.hpp"

/// |w_ij| / mean_k |w_ik|: magnitude relative to the weight's own output unit.
struct RowRelativeMagnitude {
  [[nodiscard]] pare::Tensor<float, 2> score(const pare::PruneContext& ctx) const {
    const auto& w = ctx.weights;
    pare::Tensor<float, 2> s(w.extents());
    for (std::size_t r = 0; r < w.extent(0); ++r) {
      double mean = 0;
      for (std::size_t c = 0; c < w.extent(1); ++c) mean += std::abs(w(r, c));
      mean /= static_cast<double>(w.extent(1));
      for (std::size_t c = 0; c < w.extent(1); ++c)
        s(r, c) = mean > 0 ? static_cast<float>(std::abs(w(r, c)) / mean) : 0.0f;
    }
    return s;
  }
};
static_assert(pare::PruningCriterion<RowRelativeMagnitude>);  // the contract, checked here

using Mlp = pare::Sequential<pare::Linear, pare::ReLU, pare::Linear, pare::ReLU, pare::Linear>;

template <class Opt>
void train(Mlp& model, Opt& opt, const pare::Dataset& data, int epochs) {
  pare::BatchLoader batches(data, 32, /*seed=*/7);
  for (int e = 0; e < epochs; ++e)
    for (const pare::Batch& b : batches.epoch()) {
      model.zero_grad();
      auto [loss, grad] = pare::softmax_cross_entropy(model.forward(b.x), b.y);
      (void)model.backward(grad);
      opt.step(model.parameters());
    }
}

// Prunes the three Linear layers of a copy of `dense` with `pruner`, fine-tunes 5 epochs with the
// masks kept, prints sparsity and accuracy before and after, and returns the fine-tuned model.
template <class P>
Mlp run(const char* name, const P& pruner, double sparsity, const Mlp& dense,
        const pare::Split& data) {
  Mlp model = dense;
  std::vector<pare::Linear*> fcs{&model.layer<0>(), &model.layer<2>(), &model.layer<4>()};
  std::vector<pare::PruneContext> ctx;
  for (auto* fc : fcs) ctx.push_back({.weights = fc->weight()});
  const std::vector<pare::Mask> masks = pruner.masks(ctx, sparsity);  // one per layer
  pare::MaskedOptimizer opt{pare::Adam{.lr = 1e-3f}};
  std::size_t kept = 0, total = 0;
  for (std::size_t l = 0; l < fcs.size(); ++l) {
    opt.set_mask(fcs[l]->weight(), masks[l]);
    kept += pare::count_kept(masks[l]);
    total += masks[l].size();
  }
  const double before = pare::accuracy(model, data.test);
  train(model, opt, data.train, 5);
  std::printf("%-34s %8.1f%% %10.2f%% %10.2f%%\n", name,
              100.0 * (1.0 - static_cast<double>(kept) / static_cast<double>(total)), 100 * before,
              100 * pare::accuracy(model, data.test));
  return model;
}

// Bytes of the three weight-bearing layers' storage.
template <class Model>
std::size_t weight_bytes(const Model& m) {
  auto bytes = [](const auto& fc) {
    if constexpr (requires { fc.size_bytes(); })
      return fc.size_bytes();  // SparseLinear: the sparse arrays and the bias
    else
      return (fc.weight().size() + fc.bias().size()) * sizeof(float);
  };
  return bytes(m.template layer<0>()) + bytes(m.template layer<2>()) + bytes(m.template layer<4>());
}

int main(int argc, char** argv) try {
  const std::string dir = argc > 1 ? argv[1] : "examples/data";
  const auto data = pare::train_test_split(pare::load_digits(dir + "/digits.csv"));
  pare::Rng rng(42);
  Mlp dense{pare::Linear(64, 128, rng), pare::ReLU{}, pare::Linear(128, 64, rng), pare::ReLU{},
            pare::Linear(64, 10, rng)};
  pare::Adam opt{.lr = 1e-3f};
  train(dense, opt, data.train, 15);
  std::printf("dense test accuracy %.2f%%\n\n", 100 * pare::accuracy(dense, data.test));
  std::printf("%-34s %9s %11s %11s\n", "pruner", "sparsity", "pruned", "fine-tuned");

  using Custom = RowRelativeMagnitude;
  run("custom, unstructured, per layer", pare::Pruner<Custom, pare::Unstructured>{}, 0.8, dense,
      data);
  run("custom, unstructured, global",
      pare::Pruner<Custom, pare::Unstructured, pare::GlobalScope>{.scope = {.ceiling = 0.9}}, 0.8,
      dense, data);
  run("magnitude, unstructured, global",
      pare::Pruner<pare::Magnitude, pare::Unstructured, pare::GlobalScope>{
          .scope = {.ceiling = 0.9}},
      0.8, dense, data);
  const pare::Pruner<Custom, pare::NM<2, 4>> nm24;
  const Mlp tuned = run("custom, 2:4", nm24, 0.5, dense, data);
  run("custom, 4x4 blocks", pare::Pruner<Custom, pare::Block<4, 4>>{}, 0.5, dense, data);

  // Deployment is one call. The fine-tuned weights are zero where the masks pruned, so the
  // criterion picks the same 2:4 masks again, and every Linear becomes a packed 2:4 layer.
  const auto sparse = pare::prune_and_deploy(tuned, nm24, 0.5);
  using Packed = pare::SparseLinear<pare::PackedNM<2, 4>>;
  static_assert(std::is_same_v<std::remove_cvref_t<decltype(sparse)>,
                               pare::Sequential<Packed, pare::ReLU, Packed, pare::ReLU, Packed>>);
  const double tuned_acc = pare::accuracy(tuned, data.test);
  const double sparse_acc = pare::accuracy(sparse, data.test);
  std::printf(
      "\ncustom 2:4, deployed on the packed 2:4 kernel: %.2f%% (dense layers with the "
      "masks: %.2f%%), weights %zu bytes (dense %zu)\n",
      100 * sparse_acc, 100 * tuned_acc, weight_bytes(sparse), weight_bytes(tuned));
  if (std::abs(sparse_acc - tuned_acc) > 0.01) {
    std::fprintf(stderr, "custom_pruner: the deployed model disagrees with the masked one\n");
    return 1;
  }
  return 0;
} catch (const pare::Error& e) {
  std::fprintf(stderr, "custom_pruner: %s\n", e.what());
  return 1;
}
