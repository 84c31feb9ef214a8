// SPDX-License-Identifier: Apache-2.0
// An unstructured mask does not fit a packed 2:4 format.
#include "pare/nn/prune_deploy.hpp"

#ifdef PARE_COMPILE_FAIL_CONTROL
using Format = pare::Csr<>;
#else
using Format = pare::PackedNM<2, 4>;
#endif

int main() {
  const pare::Linear fc(16, 8);
  auto sparse =
      pare::prune_and_deploy<Format>(fc, pare::Pruner<pare::Magnitude, pare::Unstructured>{}, 0.5);
  (void)sparse;
}
