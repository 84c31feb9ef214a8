// SPDX-License-Identifier: Apache-2.0
// Uses a little of each layer so that a missing header or dependency fails to build.
#include <cstdio>
#include <pare/pare.hpp>
#ifdef PARE_CONSUMER_HAS_EIGEN
#include <pare/core/eigen.hpp>  // the interop is not in pare.hpp: it needs pare::eigen
#endif

int main() {
  pare::Tensor<float, 2> w({3, 4}, 1.0f);
  pare::Tensor<float, 1> x({4}, 2.0f);
  pare::Tensor<float, 1> y({3});
  pare::gemv(w.view(), x.view(), y.view());
  const float h = static_cast<float>(pare::f16(0.5f));
  pare::LayerHessian hess(4);
  hess.add(w.view());  // 2/3 · Σ 1·1 over 3 rows = 2
  bool ok = y(0) == 8.0f && y(2) == 8.0f && h == 0.5f && hess.matrix()(1, 2) > 1.999999 &&
            hess.matrix()(1, 2) < 2.000001;
#ifdef PARE_CONSUMER_HAS_EIGEN
  ok = ok && pare::as_eigen(w.view()).sum() == 12.0f;
#endif
  std::printf("consumer: %s\n", ok ? "ok" : "WRONG");
  return ok ? 0 : 1;
}
