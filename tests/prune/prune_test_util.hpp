// SPDX-License-Identifier: Apache-2.0
// Helpers shared by the prune tests: the reference file of make_prune_refs.py, a trained digits
// MLP, layer-output error.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "pare/core/tensor.hpp"
#include "pare/io/digits.hpp"
#include "pare/nn/adam.hpp"
#include "pare/nn/batches.hpp"
#include "pare/nn/linear.hpp"
#include "pare/nn/loss.hpp"
#include "pare/nn/metrics.hpp"
#include "pare/nn/relu.hpp"
#include "pare/nn/sequential.hpp"
#include "pare/prune/mask.hpp"
#include "ref_file.hpp"

namespace pare::test {

/// "name ndim d0 d1 ... v0 v1 ..." per line (tests/data/prune/prune_refs.txt).
struct Ref {
  std::vector<std::size_t> shape;
  std::vector<double> values;

  [[nodiscard]] Tensor<float, 2> matrix() const {
    if (shape.size() != 2) throw std::runtime_error("not a matrix");
    Tensor<float, 2> t({shape[0], shape[1]});
    for (std::size_t i = 0; i < values.size(); ++i) t.data()[i] = static_cast<float>(values[i]);
    return t;
  }
  [[nodiscard]] Mask mask() const {
    Mask m({shape.at(0), shape.at(1)});
    for (std::size_t i = 0; i < values.size(); ++i) m.data()[i] = values[i] != 0.0;
    return m;
  }
};

inline const std::map<std::string, Ref>& prune_refs() {
  static const std::map<std::string, Ref> refs =
      read_ref_file<Ref>(std::string(PARE_TEST_DATA_DIR) + "/prune/prune_refs.txt");
  return refs;
}

inline const Ref& prune_ref(const std::string& name) { return prune_refs().at(name); }

/// Mismatching entries of two masks.
inline std::size_t mask_diff(const Mask& a, const Mask& b) {
  std::size_t d = 0;
  for (std::size_t i = 0; i < a.size(); ++i) d += (a.data()[i] != 0) != (b.data()[i] != 0);
  return d;
}

using DigitsMlp = Sequential<Linear, ReLU, Linear, ReLU, Linear>;

struct DigitsSetup {
  Split data;
  DigitsMlp model;
};

/// Trains examples/demo.cpp's MLP 64-128-64-10 on digits (Adam 1e-3, batch 32); fewer epochs in
/// sanitizer builds. Trained once per test binary; tests copy the model.
inline const DigitsSetup& trained_digits() {
  static const DigitsSetup setup = [] {
    Split data = train_test_split(load_digits(std::string(PARE_EXAMPLES_DATA_DIR) + "/digits.csv"));
    Rng rng(42);
    DigitsMlp model{Linear(64, 128, rng), ReLU{}, Linear(128, 64, rng), ReLU{},
                    Linear(64, 10, rng)};
    Adam opt{.lr = 1e-3f};
    BatchLoader batches(data.train, 32, 7);
    const int epochs = PARE_FULL_SWEEP ? 20 : 8;
    for (int e = 0; e < epochs; ++e)
      for (const Batch& b : batches.epoch()) {
        model.zero_grad();
        auto [loss, grad] = softmax_cross_entropy(model.forward(b.x), b.y);
        (void)model.backward(grad);
        opt.step(model.parameters());
      }
    return DigitsSetup{std::move(data), std::move(model)};
  }();
  return setup;
}

/// ‖X Wᵀ − X Ŵᵀ‖_F² / ‖X Wᵀ‖_F²: relative layer-output error of pruned weights Ŵ on inputs X.
inline double relative_output_error(TensorView<const float, 2> x, TensorView<const float, 2> w,
                                    TensorView<const float, 2> w_pruned) {
  double num = 0, den = 0;
  for (std::size_t n = 0; n < x.extent(0); ++n)
    for (std::size_t o = 0; o < w.extent(0); ++o) {
      double y = 0, yp = 0;
      for (std::size_t i = 0; i < w.extent(1); ++i) {
        y += static_cast<double>(x(n, i)) * w(o, i);
        yp += static_cast<double>(x(n, i)) * w_pruned(o, i);
      }
      num += (y - yp) * (y - yp);
      den += y * y;
    }
  return num / den;
}

}  // namespace pare::test
