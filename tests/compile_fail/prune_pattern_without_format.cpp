// SPDX-License-Identifier: Apache-2.0
// A user's pattern that does not say which sparse format it deploys to.
#include "pare/nn/prune_deploy.hpp"

struct FirstColumn {
  [[nodiscard]] pare::Mask mask(pare::TensorView<const float, 2> scores, double) const {
    pare::Mask m(scores.extents());
    for (std::size_t r = 0; r < scores.extent(0); ++r) m(r, 0) = 1;
    return m;
  }
};

#ifdef PARE_COMPILE_FAIL_CONTROL
template <>
struct pare::deploy_format<FirstColumn> {
  using type = pare::Csr<>;
};
#endif

int main() {
  const pare::Linear fc(16, 8);
  auto sparse = pare::prune_and_deploy(fc, pare::Pruner<pare::Magnitude, FirstColumn>{}, 0.5);
  (void)sparse;
}
