// SPDX-License-Identifier: Apache-2.0
// A small MLP trained on the digits data, shared by the quantization accuracy tests (GPTQ, PTQ,
// Int4Linear, QAT): trained once per test binary, deterministic.
#pragma once

#include <string>

#include "pare/io/digits.hpp"
#include "pare/nn/adam.hpp"
#include "pare/nn/batches.hpp"
#include "pare/nn/linear.hpp"
#include "pare/nn/loss.hpp"
#include "pare/nn/metrics.hpp"
#include "pare/nn/relu.hpp"
#include "pare/nn/sequential.hpp"

namespace pare::test {

inline const Split& digits_split() {
  static const Split s =
      train_test_split(load_digits(std::string(PARE_EXAMPLES_DATA_DIR) + "/digits.csv"));
  return s;
}

using DigitsMlp = Sequential<Linear, ReLU, Linear, ReLU, Linear>;

/// 64-64-64-10 (hidden widths multiples of 32, so PerGroup<32> fits every layer), Adam, 12 epochs.
inline const DigitsMlp& digits_mlp() {
  static const DigitsMlp model = [] {
    const auto& train = digits_split().train;
    Rng rng(3);
    DigitsMlp m{Linear(64, 64, rng), ReLU{}, Linear(64, 64, rng), ReLU{}, Linear(64, 10, rng)};
    Adam opt{.lr = 3e-3f};
    BatchLoader loader(train, 32, 5);
    for (int epoch = 0; epoch < 12; ++epoch)
      for (const Batch& b : loader.epoch()) {
        m.zero_grad();
        auto [loss, grad] = softmax_cross_entropy(m.forward(b.x), b.y);
        (void)m.backward(grad);
        opt.step(m.parameters());
      }
    return m;
  }();
  return model;
}

/// The inputs of the three Linear layers of `m` on `x` (post-ReLU for layers 1 and 2).
struct LayerInputs {
  Tensor<float, 2> in0, in1, in2;
};
inline LayerInputs layer_inputs(const DigitsMlp& m, TensorView<const float, 2> x) {
  LayerInputs r{Tensor<float, 2>(x), {}, {}};
  r.in1 = m.layer<1>().infer(m.layer<0>().infer(x));
  r.in2 = m.layer<3>().infer(m.layer<2>().infer(r.in1));
  return r;
}

}  // namespace pare::test
