// SPDX-License-Identifier: Apache-2.0
// 4-bit weights with one scale per channel: the 4-bit kernels take per-group scales.
#include "pare/kernels/kernel_layout.hpp"

int main() {
  pare::Tensor<float, 2> w({8, 64});
  const auto q =
#ifdef PARE_COMPILE_FAIL_CONTROL
      pare::Quantizer<pare::Int<4>, pare::Symmetric, pare::PerGroup<32>>{}.quantize(w.view());
#else
      pare::Quantizer<pare::Int<4>, pare::Symmetric, pare::PerChannel>{}.quantize(w.view());
#endif
  const auto packed = pare::pack_for_kernel(q);
}
