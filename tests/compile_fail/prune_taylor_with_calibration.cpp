// SPDX-License-Identifier: Apache-2.0
// Taylor needs gradients; calibration inputs alone cannot give them.
#include "pare/nn/prune_deploy.hpp"

int main() {
  const pare::Linear fc(16, 8);
  const pare::Pruner<pare::Taylor, pare::Unstructured> pruner;
#ifdef PARE_COMPILE_FAIL_CONTROL
  const pare::Tensor<float, 2> grad({8, 16}, 1.0f);
  auto sparse = pare::prune_and_deploy(fc, pruner, 0.5, {.weights = {}, .grad = grad});
#else
  const pare::Tensor<float, 2> inputs({4, 16}, 1.0f);
  auto sparse = pare::prune_and_deploy(fc, pruner, 0.5, inputs);
#endif
  (void)sparse;
}
