// SPDX-License-Identifier: Apache-2.0
// pare — the SIMD kernel of the graph's transcendental unary ops (Gelu, Erf, Exp, Tanh, Sigmoid):
// xsimd's erf/exp/tanh a register at a time, within a few ulp of the C library.
#pragma once

#include <cstddef>
#include <cstdint>

#include "pare/simd/arch.hpp"
#include "pare/simd/dispatch.hpp"

// GCC 12 reports the `__m512 __Y = __Y;` idiom of _mm512_undefined_ps() as uninitialized once
// xsimd::exp is inlined here (GCC bug 105593, fixed in GCC 13); the warning is a false positive.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace pare::kernels {

/// The unary functions UnaryMathBatches computes.
enum class UnaryMath : std::uint8_t { gelu, erf, exp, tanh, sigmoid };

/// y[i] = f(x[i]) for the first n / lanes · lanes elements (whole registers only); returns how
/// many it wrote, the caller computing the rest. An element's value does not depend on where the
/// range starts, as long as ranges start a whole number of registers apart.
/// @pre y == x or no overlap
struct UnaryMathBatches {
  template <class Arch>
  std::size_t operator()(Arch, UnaryMath f, const float* x, float* y, std::size_t n) const noexcept;
};

template <class Arch>
std::size_t UnaryMathBatches::operator()(Arch, UnaryMath f, const float* x, float* y,
                                         std::size_t n) const noexcept {
  using B = xsimd::batch<float, Arch>;
  std::size_t done = 0;
  auto vec = [&](auto fn) {
    for (; done + B::size <= n; done += B::size)
      fn(B::load_unaligned(x + done)).store_unaligned(y + done);
  };
  switch (f) {
    case UnaryMath::gelu:
      vec([](B z) { return B(0.5f) * z * (B(1.0f) + xsimd::erf(z * B(0.70710678118654752f))); });
      break;
    case UnaryMath::erf:
      vec([](B z) { return xsimd::erf(z); });
      break;
    case UnaryMath::exp:
      vec([](B z) { return xsimd::exp(z); });
      break;
    case UnaryMath::tanh:
      vec([](B z) { return xsimd::tanh(z); });
      break;
    case UnaryMath::sigmoid:
      vec([](B z) { return B(1.0f) / (B(1.0f) + xsimd::exp(-z)); });
      break;
  }
  return done;
}
PARE_DISPATCHED_KERNEL(std::size_t, UnaryMathBatches::operator(),
                       (UnaryMath, const float*, float*, std::size_t), const noexcept)

}  // namespace pare::kernels

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
