// SPDX-License-Identifier: Apache-2.0
// Removing output channels changes a Linear's width; alone, nothing else can shrink with it.
#include "pare/nn/prune_deploy.hpp"

int main() {
  const pare::Pruner<pare::L2, pare::Channel> pruner;
#ifdef PARE_COMPILE_FAIL_CONTROL
  const pare::Sequential model{pare::Linear(16, 8), pare::ReLU{}, pare::Linear(8, 4)};
  auto small = pare::prune_and_deploy(model, pruner, 0.5);
#else
  const pare::Linear fc(16, 8);
  auto small = pare::prune_and_deploy(fc, pruner, 0.5);
#endif
  (void)small;
}
