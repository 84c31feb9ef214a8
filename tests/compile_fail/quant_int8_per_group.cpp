// SPDX-License-Identifier: Apache-2.0
// int8 weights with one scale per group: the int8 GEMM applies one scale per output channel.
#include "pare/kernels/kernel_layout.hpp"

int main() {
  pare::Tensor<float, 2> w({8, 64});
  const auto q =
#ifdef PARE_COMPILE_FAIL_CONTROL
      pare::Quantizer<pare::Int<8>, pare::Symmetric, pare::PerChannel>{}.quantize(w.view());
#else
      pare::Quantizer<pare::Int<8>, pare::Symmetric, pare::PerGroup<32>>{}.quantize(w.view());
#endif
  const auto packed = pare::pack_for_kernel(q);
}
