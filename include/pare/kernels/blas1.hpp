// SPDX-License-Identifier: Apache-2.0
// pare — vector kernels: dot and axpy. SIMD kernels in pare::kernels, checked wrappers in pare.
#pragma once

#include <cstddef>

#include "pare/core/tensor.hpp"
#include "pare/kernels/reference.hpp"
#include "pare/simd/arch.hpp"
#include "pare/simd/dispatch.hpp"

namespace pare::kernels {

/// Sum of a[i] * b[i] for i < n, with four independent accumulators (hides FMA latency).
/// Summation order differs from the scalar reference; error is within gamma_n * sum |a_i b_i|.
struct Dot {
  template <class Arch>
  [[nodiscard]] float operator()(Arch, const float* a, const float* b,
                                 std::size_t n) const noexcept;
};

/// y[i] += alpha * x[i] for i < n. @pre x and y do not partially overlap.
struct Axpy {
  template <class Arch>
  void operator()(Arch, float alpha, const float* x, float* y, std::size_t n) const noexcept;
};

// Defined out of the classes so that pare_isa's objects can hold the AVX2/AVX-512 instantiations
// (simd/dispatch.hpp).
template <class Arch>
float Dot::operator()(Arch, const float* a, const float* b, std::size_t n) const noexcept {
  using B = xsimd::batch<float, Arch>;
  constexpr std::size_t w = B::size;
  B s0(0.0f), s1(0.0f), s2(0.0f), s3(0.0f);
  std::size_t i = 0;
  for (; i + 4 * w <= n; i += 4 * w) {
    s0 = simd::fma(B::load_unaligned(a + i), B::load_unaligned(b + i), s0);
    s1 = simd::fma(B::load_unaligned(a + i + w), B::load_unaligned(b + i + w), s1);
    s2 = simd::fma(B::load_unaligned(a + i + 2 * w), B::load_unaligned(b + i + 2 * w), s2);
    s3 = simd::fma(B::load_unaligned(a + i + 3 * w), B::load_unaligned(b + i + 3 * w), s3);
  }
  for (; i + w <= n; i += w) s0 = simd::fma(B::load_unaligned(a + i), B::load_unaligned(b + i), s0);
  float s = xsimd::hadd((s0 + s1) + (s2 + s3));
  for (; i < n; ++i) s = simd::fma_like<Arch>(a[i], b[i], s);
  return s;
}
PARE_DISPATCHED_KERNEL(float, Dot::operator(), (const float*, const float*, std::size_t),
                       const noexcept)

template <class Arch>
void Axpy::operator()(Arch, float alpha, const float* x, float* y, std::size_t n) const noexcept {
  using B = xsimd::batch<float, Arch>;
  constexpr std::size_t w = B::size;
  const B a(alpha);
  std::size_t i = 0;
  for (; i + 2 * w <= n; i += 2 * w) {
    const B y0 = simd::fma(a, B::load_unaligned(x + i), B::load_unaligned(y + i));
    const B y1 = simd::fma(a, B::load_unaligned(x + i + w), B::load_unaligned(y + i + w));
    y0.store_unaligned(y + i);
    y1.store_unaligned(y + i + w);
  }
  for (; i + w <= n; i += w)
    simd::fma(a, B::load_unaligned(x + i), B::load_unaligned(y + i)).store_unaligned(y + i);
  for (; i < n; ++i) y[i] = simd::fma_like<Arch>(alpha, x[i], y[i]);
}
PARE_DISPATCHED_KERNEL(void, Axpy::operator(), (float, const float*, float*, std::size_t),
                       const noexcept)

}  // namespace pare::kernels

namespace pare {

/// Sum of a[i] * b[i].
/// @pre a and b have the same shape (else ShapeError). Strided views use the scalar reference.
/// ```
/// float d = pare::dot(a.view(), b.view());
/// ```
[[nodiscard]] float dot(TensorView<const float, 1> a, TensorView<const float, 1> b);

/// y += alpha * x.
/// @pre x and y have the same shape (else ShapeError) and do not overlap unless equal.
void axpy(float alpha, TensorView<const float, 1> x, TensorView<float, 1> y);

}  // namespace pare

#ifndef PARE_COMPILED_LIB
#include "pare/kernels/blas1-inl.hpp"
#endif
