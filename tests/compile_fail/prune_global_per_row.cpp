// SPDX-License-Identifier: Apache-2.0
// PerRow fixes the count per row, like N:M: no global ranking.
#include "pare/prune/criteria.hpp"
#include "pare/prune/pruner.hpp"

#ifdef PARE_COMPILE_FAIL_CONTROL
using Pattern = pare::Unstructured;
#else
using Pattern = pare::PerRow;
#endif

int main() {
  pare::Pruner<pare::Wanda, Pattern, pare::GlobalScope> p;
  (void)p;
}
