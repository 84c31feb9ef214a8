// SPDX-License-Identifier: Apache-2.0
// pare — sparse matrix x dense matrix, Y = A X with A sparse [M, K], X dense [K, N] and Y [M, N]
// (row-major, any leading dimension), for a small batch N: SIMD kernels (pare::kernels::Spmm),
// scalar references and the checked wrapper pare::spmm.
//
// Each kept weight a_rk is broadcast and multiplied into row k of X, so the kernel vectorizes
// along N and reads A once per block of up to 4 batches of columns; no gathers.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "pare/core/error.hpp"
#include "pare/core/parallel.hpp"
#include "pare/core/tensor.hpp"
#include "pare/kernels/spmv.hpp"
#include "pare/simd/arch.hpp"
#include "pare/simd/dispatch.hpp"
#include "pare/sparse/bitmap.hpp"
#include "pare/sparse/bsr.hpp"
#include "pare/sparse/csr.hpp"
#include "pare/sparse/nm.hpp"

namespace pare::kernels {

namespace detail {

/// Calls f(row, col, value) for every stored value of A, row by row (value already dequantized
/// for CsrInt8 except for the row scale, which `row_scale` gives).
template <class Index, class F>
void for_each_stored(const Csr<Index>& a, std::size_t r, F&& f) {
  for (std::size_t j = a.row_ptr()[r]; j < a.row_ptr()[r + 1]; ++j) f(a.col()[j], a.values()[j]);
}
template <class Index, class F>
void for_each_stored(const CsrInt8<Index>& a, std::size_t r, F&& f) {
  for (std::size_t j = a.row_ptr()[r]; j < a.row_ptr()[r + 1]; ++j)
    f(a.col()[j], static_cast<float>(a.values()[j]));
}
template <std::size_t R, std::size_t C, class F>
void for_each_stored(const Bsr<R, C>& a, std::size_t r, F&& f) {
  const std::size_t br = r / R, i = r % R;
  for (std::size_t b = a.block_ptr()[br]; b < a.block_ptr()[br + 1]; ++b) {
    const std::size_t c0 = a.block_col()[b] * C;
    for (std::size_t k = 0; k < C && c0 + k < a.cols(); ++k)
      f(c0 + k, a.values()[(b * R + i) * C + k]);
  }
}
template <std::size_t N, std::size_t M, class V, class F>
void for_each_stored(const PackedNM<N, M, V>& a, std::size_t r, F&& f) {
  const std::size_t vpr = a.values_per_row();
  for (std::size_t j = 0; j < vpr; ++j)
    f(a.column(r, j), static_cast<float>(a.values()[r * vpr + j]));
}

template <class F>
void for_each_stored(const Bitmap& a, std::size_t r, F&& f) {
  a.for_each_in_row(r, f);
}

template <class S>
[[nodiscard, gnu::always_inline]] inline float row_scale(const S&, std::size_t) noexcept {
  return 1.0f;
}
template <class Index>
[[nodiscard, gnu::always_inline]] inline float row_scale(const CsrInt8<Index>& a,
                                                         std::size_t r) noexcept {
  return a.scales()[r];
}
template <std::size_t N, std::size_t M>
[[nodiscard, gnu::always_inline]] inline float row_scale(const PackedNM<N, M, std::int8_t>& a,
                                                         std::size_t r) noexcept {
  return a.scales()[r];
}

}  // namespace detail

namespace reference {

/// Y = A X, every element accumulated in double and rounded once.
template <SparseMatrix S>
void spmm(const S& a, TensorView<const float, 2> x, TensorView<float, 2> y) {
  const std::size_t n = x.extent(1);
  std::vector<double> acc(n);
  for (std::size_t r = 0; r < a.rows(); ++r) {
    std::fill(acc.begin(), acc.end(), 0.0);
    kernels::detail::for_each_stored(a, r, [&](std::size_t k, float v) {
      for (std::size_t c = 0; c < n; ++c) acc[c] += static_cast<double>(v) * x(k, c);
    });
    const double s = kernels::detail::row_scale(a, r);
    for (std::size_t c = 0; c < n; ++c) y(r, c) = static_cast<float>(acc[c] * s);
  }
}

}  // namespace reference

/// The SIMD sparse x dense-matrix kernel on rows [r0, r1) of A: `operator()(arch, A, x, ldx, n, y,
/// ldy, r0, r1)` computes y[r*ldy + c] = sum_k A[r, k] x[k*ldx + c] for c < n and those rows only.
/// Columns go 4 batches at a time, then one batch, then a scalar tail; a row's result does not
/// depend on the range (pare::spmm splits rows over threads, bit-identical for any count). The
/// dispatch idiom of simd/dispatch.hpp, for the formats spmv_dispatched lists.
/// @pre x holds A.cols() rows of n floats at stride ldx, y A.rows() rows at stride ldy, and y
/// overlaps neither A nor x; r0 <= r1 <= A.rows().
struct SpmmRows {
  template <class Arch, SparseMatrix S>
  void operator()(Arch, const S& a, const float* x, std::size_t ldx, std::size_t n, float* y,
                  std::size_t ldy, std::size_t r0, std::size_t r1) const noexcept;
};

template <class Arch, SparseMatrix S>
void SpmmRows::operator()(Arch, const S& a, const float* x, std::size_t ldx, std::size_t n,
                          float* y, std::size_t ldy, std::size_t r0,
                          std::size_t r1) const noexcept {
  using B = xsimd::batch<float, Arch>;
  constexpr std::size_t w = B::size;
  for (std::size_t r = r0; r < r1; ++r) {
    float* yr = y + r * ldy;
    const float row_scale = detail::row_scale(a, r);
    const B scale(row_scale);
    std::size_t c = 0;
    for (; c + 4 * w <= n; c += 4 * w) {
      std::array<B, 4> acc = {B(0.0f), B(0.0f), B(0.0f), B(0.0f)};
      detail::for_each_stored(a, r, [&](std::size_t k, float v) {
        const B vb(v);
        const float* xr = x + k * ldx + c;
        for (std::size_t u = 0; u < 4; ++u)
          acc[u] = simd::fma(vb, B::load_unaligned(xr + u * w), acc[u]);
      });
      for (std::size_t u = 0; u < 4; ++u) (acc[u] * scale).store_unaligned(yr + c + u * w);
    }
    for (; c + w <= n; c += w) {
      B acc(0.0f);
      detail::for_each_stored(a, r, [&](std::size_t k, float v) {
        acc = simd::fma(B(v), B::load_unaligned(x + k * ldx + c), acc);
      });
      (acc * scale).store_unaligned(yr + c);
    }
    if (c < n) {
      std::array<float, w> acc{};
      detail::for_each_stored(a, r, [&](std::size_t k, float v) {
        for (std::size_t t = 0; c + t < n; ++t)
          acc[t] = simd::fma_like<Arch>(v, x[k * ldx + c + t], acc[t]);
      });
      for (std::size_t t = 0; c + t < n; ++t) yr[c + t] = acc[t] * row_scale;
    }
  }
}

// The formats pare_isa instantiates: spmv_dispatched's (kernels/spmv.hpp).
#define PARE_SPMM_KERNEL(...)                                                                 \
  PARE_DISPATCHED_KERNEL(void, SpmmRows::operator(),                                          \
                         (const __VA_ARGS__&, const float*, std::size_t, std::size_t, float*, \
                          std::size_t, std::size_t, std::size_t),                             \
                         const noexcept)
PARE_SPMM_KERNEL(Csr<std::uint16_t>)
PARE_SPMM_KERNEL(Csr<std::uint32_t>)
PARE_SPMM_KERNEL(CsrInt8<std::uint16_t>)
PARE_SPMM_KERNEL(CsrInt8<std::uint32_t>)
PARE_SPMM_KERNEL(Bitmap)
PARE_SPMM_KERNEL(Bsr<1, 16>)
PARE_SPMM_KERNEL(Bsr<4, 16>)
PARE_SPMM_KERNEL(Bsr<16, 1>)
PARE_SPMM_KERNEL(PackedNM<2, 4, float>)
PARE_SPMM_KERNEL(PackedNM<1, 4, float>)
PARE_SPMM_KERNEL(PackedNM<4, 8, float>)
PARE_SPMM_KERNEL(PackedNM<2, 8, float>)
PARE_SPMM_KERNEL(PackedNM<1, 8, float>)
PARE_SPMM_KERNEL(PackedNM<2, 4, std::int8_t>)
PARE_SPMM_KERNEL(PackedNM<1, 4, std::int8_t>)
PARE_SPMM_KERNEL(PackedNM<2, 8, std::int8_t>)
PARE_SPMM_KERNEL(PackedNM<1, 8, std::int8_t>)
#undef PARE_SPMM_KERNEL

/// SpmmRows over all of A on one thread, for a given arch (tests, benchmarks).
struct Spmm {
  template <class Arch, SparseMatrix S>
  void operator()(Arch arch, const S& a, const float* x, std::size_t ldx, std::size_t n, float* y,
                  std::size_t ldy) const noexcept {
    SpmmRows{}(arch, a, x, ldx, n, y, ldy, 0, a.rows());
  }
};

}  // namespace pare::kernels

namespace pare {

/// Y = A X for a sparse A [M, K], X [K, N] and Y [M, N]. SIMD kernel (run-time dispatched for the
/// formats spmv_dispatched lists, rows split over pare's threads: bit-identical for any count)
/// when the rows of X and Y are contiguous (any leading dimension), else the scalar reference.
/// @pre Y overlaps neither A nor X. ShapeError if the shapes disagree.
/// ```
/// pare::spmm(a, x.view(), y.view());   // x: [a.cols(), batch], y: [a.rows(), batch]
/// ```
template <SparseMatrix S>
void spmm(const S& a, TensorView<const float, 2> x, TensorView<float, 2> y) {
  PARE_CHECK(a.cols() == x.extent(0) && a.rows() == y.extent(0) && x.extent(1) == y.extent(1),
             ShapeError, "spmm: A [", a.rows(), ", ", a.cols(), "] x ", to_string(x.extents()),
             " -> Y ", to_string(y.extents()));
  if constexpr (simd::has_simd) {
    const bool x_rows = x.stride(1) == 1 || x.extent(1) <= 1;
    const bool y_rows = y.stride(1) == 1 || y.extent(1) <= 1;
    if (x_rows && y_rows && x.stride(0) >= 0 && y.stride(0) >= 0) {
      const std::size_t n = x.extent(1), rows = a.rows();
      const auto ldx = static_cast<std::size_t>(x.stride(0));
      const auto ldy = static_cast<std::size_t>(y.stride(0));
      // Pieces of at least ~64 K multiply-adds (stored values x batch columns).
      const std::size_t per_row = a.stored() / (rows > 0 ? rows : 1) * n + 1;
      const std::size_t grain = std::max<std::size_t>(1, (std::size_t{1} << 16) / per_row);
      parallel_for(0, rows, grain, [&](std::size_t lo, std::size_t hi) {
        if constexpr (kernels::spmv_dispatched<S>)
          simd::dispatch([&](auto arch) {
            kernels::SpmmRows{}(arch, a, x.data(), ldx, n, y.data(), ldy, lo, hi);
          });
        else
          kernels::SpmmRows{}(xsimd::default_arch{}, a, x.data(), ldx, n, y.data(), ldy, lo, hi);
      });
      return;
    }
  }
  kernels::reference::spmm(a, x, y);
}

}  // namespace pare
