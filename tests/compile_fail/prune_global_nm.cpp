// SPDX-License-Identifier: Apache-2.0
// N:M fixes how many weights each row keeps, so layers cannot compete in one ranking: GlobalScope
// with NM<2, 4> used to compile and silently prune per layer.
#include "pare/prune/criteria.hpp"
#include "pare/prune/pruner.hpp"

#ifdef PARE_COMPILE_FAIL_CONTROL
using Scope = pare::LayerScope;
#else
using Scope = pare::GlobalScope;
#endif

int main() {
  pare::Pruner<pare::Magnitude, pare::NM<2, 4>, Scope> p;
  (void)p;
}
