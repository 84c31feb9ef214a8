// SPDX-License-Identifier: Apache-2.0
// pare — softmax and log-softmax. SIMD kernels in pare::kernels, checked wrappers in pare.
//
// Both subtract the maximum before exp, so exp never overflows and the largest term is exactly 1:
// logits of +-1e4 are fine, -inf entries give probability 0 (log-probability -inf). An input whose
// maximum is not finite (all -inf, any +inf or NaN) gives NaN, as in PyTorch.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>

#include "pare/core/tensor.hpp"
#include "pare/kernels/reference.hpp"
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

namespace detail {

template <class Arch>
[[nodiscard]] inline float max_of(const float* x, std::size_t n) noexcept {
  using B = xsimd::batch<float, Arch>;
  constexpr std::size_t w = B::size;
  float m = x[0];
  std::size_t i = 0;
  if (n >= w) {
    B mv = B::load_unaligned(x);
    for (i = w; i + w <= n; i += w) mv = xsimd::max(mv, B::load_unaligned(x + i));
    alignas(64) float lanes[w];
    mv.store_unaligned(lanes);
    for (float v : lanes) m = std::max(m, v);
  }
  for (; i < n; ++i) m = std::max(m, x[i]);
  return m;
}

// exp(x[i] - m) for i < n, stored to y when Store, summed. The tail goes through a padded batch
// (pad -inf, exp gives 0) so every element uses the same exp.
template <bool Store, class Arch>
[[nodiscard]] inline float exp_shifted_sum(const float* x, float* y, std::size_t n,
                                           float m) noexcept {
  using B = xsimd::batch<float, Arch>;
  constexpr std::size_t w = B::size;
  const B mv(m);
  B s0(0.0f), s1(0.0f);
  std::size_t i = 0;
  for (; i + 2 * w <= n; i += 2 * w) {
    const B e0 = xsimd::exp(B::load_unaligned(x + i) - mv);
    const B e1 = xsimd::exp(B::load_unaligned(x + i + w) - mv);
    if constexpr (Store) {
      e0.store_unaligned(y + i);
      e1.store_unaligned(y + i + w);
    }
    s0 += e0;
    s1 += e1;
  }
  for (; i + w <= n; i += w) {
    const B e = xsimd::exp(B::load_unaligned(x + i) - mv);
    if constexpr (Store) e.store_unaligned(y + i);
    s0 += e;
  }
  if (i < n) {
    alignas(64) float buf[w];
    std::fill(buf, buf + w, -std::numeric_limits<float>::infinity());
    std::copy(x + i, x + n, buf);
    const B e = xsimd::exp(B::load_aligned(buf) - mv);
    if constexpr (Store) {
      e.store_aligned(buf);
      std::copy(buf, buf + (n - i), y + i);
    }
    s0 += e;
  }
  return xsimd::hadd(s0 + s1);
}

}  // namespace detail

/// y = softmax(x) over n elements: exp(x - max) / sum. Three passes: max, exp and sum, divide.
/// @pre y == x (in place) or y does not overlap x.
struct Softmax {
  template <class Arch>
  void operator()(Arch, const float* x, float* y, std::size_t n) const noexcept;
};

/// y = log_softmax(x) over n elements: (x - max) - log(sum exp(x - max)). Computing x - max first
/// keeps full precision for large logits (x - max is exact when x and max are within a factor 2).
/// @pre y == x (in place) or y does not overlap x.
struct LogSoftmax {
  template <class Arch>
  void operator()(Arch, const float* x, float* y, std::size_t n) const noexcept;
};

/// Softmax (or log-softmax, when `log`) of each of `rows` rows of n contiguous floats, row r at
/// x + r * ldx and y + r * ldy: the dispatch boundary of the row-wise wrappers, one call per
/// task. @pre each output row is its input row or overlaps no input row
struct SoftmaxRows {
  template <class Arch>
  void operator()(Arch, const float* x, std::ptrdiff_t ldx, float* y, std::ptrdiff_t ldy,
                  std::size_t rows, std::size_t n, bool log) const noexcept;
};

// Defined out of the classes so that pare_isa's objects can hold the AVX2/AVX-512 instantiations
// (simd/dispatch.hpp).
template <class Arch>
void Softmax::operator()(Arch, const float* x, float* y, std::size_t n) const noexcept {
  if (n == 0) return;
  using B = xsimd::batch<float, Arch>;
  constexpr std::size_t w = B::size;
  const float m = detail::max_of<Arch>(x, n);
  const float s = detail::exp_shifted_sum<true, Arch>(x, y, n, m);
  // Division, not multiplication by 1/s: one rounding instead of two, and the pass is
  // memory-bound.
  const B sv(s);
  std::size_t i = 0;
  for (; i + w <= n; i += w) (B::load_unaligned(y + i) / sv).store_unaligned(y + i);
  for (; i < n; ++i) y[i] /= s;
}
PARE_DISPATCHED_KERNEL(void, Softmax::operator(), (const float*, float*, std::size_t),
                       const noexcept)

template <class Arch>
void LogSoftmax::operator()(Arch, const float* x, float* y, std::size_t n) const noexcept {
  if (n == 0) return;
  using B = xsimd::batch<float, Arch>;
  constexpr std::size_t w = B::size;
  const float m = detail::max_of<Arch>(x, n);
  const float log_s = std::log(detail::exp_shifted_sum<false, Arch>(x, nullptr, n, m));
  const B mv(m), lv(log_s);
  std::size_t i = 0;
  for (; i + w <= n; i += w) ((B::load_unaligned(x + i) - mv) - lv).store_unaligned(y + i);
  for (; i < n; ++i) y[i] = (x[i] - m) - log_s;
}
PARE_DISPATCHED_KERNEL(void, LogSoftmax::operator(), (const float*, float*, std::size_t),
                       const noexcept)

template <class Arch>
void SoftmaxRows::operator()(Arch, const float* x, std::ptrdiff_t ldx, float* y, std::ptrdiff_t ldy,
                             std::size_t rows, std::size_t n, bool log) const noexcept {
  for (std::size_t r = 0; r < rows; ++r) {
    const float* xr = x + static_cast<std::ptrdiff_t>(r) * ldx;
    float* yr = y + static_cast<std::ptrdiff_t>(r) * ldy;
    if (log)
      LogSoftmax{}(Arch{}, xr, yr, n);
    else
      Softmax{}(Arch{}, xr, yr, n);
  }
}
PARE_DISPATCHED_KERNEL(void, SoftmaxRows::operator(),
                       (const float*, std::ptrdiff_t, float*, std::ptrdiff_t, std::size_t,
                        std::size_t, bool),
                       const noexcept)

}  // namespace pare::kernels

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

namespace pare {

/// y = softmax(x), stable for large |x| (subtracts the max); -inf entries give 0.
/// @pre same shape (else ShapeError); y == x or no overlap.
/// ```
/// pare::softmax(logits.view(), probs.view());
/// ```
void softmax(TensorView<const float, 1> x, TensorView<float, 1> y);

/// y = log(softmax(x)) = (x - max) - log(sum(exp(x - max))); -inf entries give -inf.
/// @pre same shape (else ShapeError); y == x or no overlap.
void log_softmax(TensorView<const float, 1> x, TensorView<float, 1> y);

/// Row-wise softmax of a matrix; rows may have any stride, elements within a row contiguous for
/// the SIMD path. Rows are shared among pare's threads (num_threads()) when there are enough of
/// them; each row is computed as on one thread, so the result does not depend on the count.
void softmax(TensorView<const float, 2> x, TensorView<float, 2> y);

/// Row-wise log-softmax of a matrix, threaded as the row-wise softmax.
void log_softmax(TensorView<const float, 2> x, TensorView<float, 2> y);

}  // namespace pare

#ifndef PARE_COMPILED_LIB
#include "pare/kernels/softmax-inl.hpp"
#endif
