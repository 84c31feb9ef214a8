// SPDX-License-Identifier: Apache-2.0
// Wanda scores |W|·‖X‖: deploying it without calibration inputs would score against empty norms.
#include "pare/nn/prune_deploy.hpp"

int main() {
  const pare::Linear fc(16, 8);
  const pare::Pruner<pare::Wanda, pare::NM<2, 4>> pruner;
#ifdef PARE_COMPILE_FAIL_CONTROL
  const pare::Tensor<float, 2> inputs({4, 16}, 1.0f);
  auto sparse = pare::prune_and_deploy(fc, pruner, 0.5, inputs);
#else
  auto sparse = pare::prune_and_deploy(fc, pruner, 0.5);
#endif
  (void)sparse;
}
