// SPDX-License-Identifier: Apache-2.0
// The two models of the README demo on the 8×8 digits: a small CNN (the teacher) and the MLP
// student. Shared by examples/demo.cpp and the tests so both train exactly the same networks.
//
//   pare::Rng rng(42);
//   auto teacher = make_digits_cnn(rng);   // [N, 64] -> [N, 10] logits
//   auto student = make_digits_mlp(rng);
#pragma once

#include "pare/core/random.hpp"
#include "pare/kernels/conv2d.hpp"
#include "pare/kernels/pool2d.hpp"
#include "pare/nn/conv2d.hpp"
#include "pare/nn/linear.hpp"
#include "pare/nn/pool.hpp"
#include "pare/nn/relu.hpp"
#include "pare/nn/sequential.hpp"

namespace pare::examples {

/// 3×3 convolution with padding 1 (keeps the image size).
inline Conv2dGeometry same_conv3x3(std::size_t in_channels, std::size_t out_channels,
                                   std::size_t size) {
  return {.in_channels = in_channels,
          .out_channels = out_channels,
          .in_h = size,
          .in_w = size,
          .kernel_h = 3,
          .kernel_w = 3,
          .pad_top = 1,
          .pad_left = 1,
          .pad_bottom = 1,
          .pad_right = 1};
}

/// 2×2 max pooling with stride 2 (halves the image size).
inline Pool2dGeometry halving_pool(std::size_t channels, std::size_t size) {
  return {.channels = channels,
          .in_h = size,
          .in_w = size,
          .kernel_h = 2,
          .kernel_w = 2,
          .stride_h = 2,
          .stride_w = 2};
}

using DigitsCnn = Sequential<Conv2d, ReLU, MaxPool2d, Conv2d, ReLU, MaxPool2d, Linear>;
using DigitsMlp = Sequential<Linear, ReLU, Linear, ReLU, Linear>;

/// The teacher: Conv 1→8 3×3 pad 1, ReLU, MaxPool 2, Conv 8→16 3×3 pad 1, ReLU, MaxPool 2,
/// Linear 64→10, on 8×8 one-channel images flattened to 64 values. 1,898 parameters, torch's
/// default init drawn from `rng`.
inline DigitsCnn make_digits_cnn(Rng& rng) {
  return DigitsCnn{Conv2d(same_conv3x3(1, 8, 8), rng),
                   ReLU{},
                   MaxPool2d(halving_pool(8, 8)),
                   Conv2d(same_conv3x3(8, 16, 4), rng),
                   ReLU{},
                   MaxPool2d(halving_pool(16, 4)),
                   Linear(64, 10, rng)};
}

/// The student: the demo's MLP 64-128-64-10 with ReLUs (17,226 parameters).
inline DigitsMlp make_digits_mlp(Rng& rng) {
  // Sequential's constructor arguments are evaluated in order (braced initialization), so the
  // layers draw from rng first to last, as the demo always did.
  return DigitsMlp{Linear(64, 128, rng), ReLU{}, Linear(128, 64, rng), ReLU{}, Linear(64, 10, rng)};
}

/// The README demo's teacher: the CNN above with twice the channels (16 and 32; 6,090
/// parameters, ~98.6 % on digits).
inline DigitsCnn make_digits_teacher(Rng& rng) {
  return DigitsCnn{Conv2d(same_conv3x3(1, 16, 8), rng),
                   ReLU{},
                   MaxPool2d(halving_pool(16, 8)),
                   Conv2d(same_conv3x3(16, 32, 4), rng),
                   ReLU{},
                   MaxPool2d(halving_pool(32, 4)),
                   Linear(128, 10, rng)};
}

/// The README demo's student: an MLP 64-64-32-10 (6,570 parameters). Small enough that the
/// teacher's soft targets measurably help it (docs/results.md).
inline DigitsMlp make_digits_student(Rng& rng) {
  return DigitsMlp{Linear(64, 64, rng), ReLU{}, Linear(64, 32, rng), ReLU{}, Linear(32, 10, rng)};
}

}  // namespace pare::examples
