// SPDX-License-Identifier: Apache-2.0
// LayerNorm mixes its units, so a unit removed before it is not removed after it.
#include "pare/nn/layer_norm.hpp"
#include "pare/nn/prune_deploy.hpp"

#ifdef PARE_COMPILE_FAIL_CONTROL
using Between = pare::ReLU;
Between between() { return {}; }
#else
using Between = pare::LayerNorm;
Between between() { return pare::LayerNorm(8); }
#endif

int main() {
  const pare::Sequential model{pare::Linear(16, 8), between(), pare::Linear(8, 4)};
  auto small = pare::prune_and_deploy(model, pare::Pruner<pare::L2, pare::Channel>{}, 0.5);
  (void)small;
}
