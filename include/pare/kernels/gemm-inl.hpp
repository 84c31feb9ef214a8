// SPDX-License-Identifier: Apache-2.0
// pare — definitions for kernels/gemm.hpp: compiled once into pare::compiled, or included by the
// header (core/config.hpp explains the two modes).
#pragma once

#include <algorithm>
#include <cstddef>

#include "pare/core/config.hpp"
#include "pare/core/error.hpp"
#include "pare/core/parallel.hpp"
#include "pare/core/tensor.hpp"
#include "pare/kernels/gemm.hpp"
#include "pare/simd/arch.hpp"

namespace pare::kernels::reference {

PARE_INLINE void gemm(TensorView<const float, 2> a, TensorView<const float, 2> b,
                      TensorView<float, 2> c, float alpha, float beta) noexcept {
  for (std::size_t i = 0; i < c.extent(0); ++i)
    for (std::size_t j = 0; j < c.extent(1); ++j) {
      double s = 0;
      for (std::size_t p = 0; p < a.extent(1); ++p)
        s += static_cast<double>(a(i, p)) * static_cast<double>(b(p, j));
      double r = static_cast<double>(alpha) * s;
      if (beta != 0.0f) r += static_cast<double>(beta) * static_cast<double>(c(i, j));
      c(i, j) = static_cast<float>(r);
    }
}

}  // namespace pare::kernels::reference

namespace pare {

namespace detail {

/// Packing space for the calling thread, grown on demand and reused (GEMM is called per layer
/// per batch in training; reallocating each time costs more than small products themselves).
inline float* gemm_workspace(std::size_t floats) {
  thread_local Tensor<float, 1> buffer;
  if (buffer.size() < floats) buffer = Tensor<float, 1>({floats});
  return buffer.data();
}

/// The multiply-adds below which a GEMM task is not worth a thread (about 40 µs on one core):
/// products smaller than two of them run on the calling thread.
inline constexpr std::size_t gemm_task_madds = std::size_t{1} << 21;

/// C = alpha·A·B + beta·C for already shape-checked views, on up to num_threads() threads.
inline void gemm_checked(TensorView<const float, 2> a, TensorView<const float, 2> b,
                         TensorView<float, 2> c, float alpha, float beta) {
  const std::size_t m = c.extent(0), n = c.extent(1), k = a.extent(1);
  if (m == 0 || n == 0) return;
  if (k == 0) {
    for (std::size_t i = 0; i < m; ++i)
      for (std::size_t j = 0; j < n; ++j) c(i, j) = beta != 0.0f ? beta * c(i, j) : 0.0f;
    return;
  }
  if constexpr (simd::has_simd) {
    // The kernel writes C by rows; a column-major C is computed as Cᵀ = Bᵀ·Aᵀ.
    if (c.stride(1) != 1 && (c.stride(0) == 1 || m == 1) && n > 1) {
      gemm_checked(b.transposed(), a.transposed(), c.transposed(), alpha, beta);
      return;
    }
    if (c.stride(1) == 1 || n == 1) {
      simd::dispatch([&](auto arch) {
        using Arch = decltype(arch);
        using G = kernels::Gemm;
        // Threads take whole register-tile columns (or rows) of C, each packing its own share of
        // B (or A) into its own workspace: every entry is computed as one thread would, so the
        // result does not depend on the thread count. The longer side is split so that the
        // operand every thread packs in full is the smaller one.
        const bool by_cols = n >= m;
        const std::size_t unit = by_cols ? G::nr<Arch>() : G::mr;
        const std::size_t units = ((by_cols ? n : m) + unit - 1) / unit;
        const std::size_t unit_madds = unit * (by_cols ? m : n) * k;
        parallel_for(
            0, units, gemm_task_madds / unit_madds + 1, [&](std::size_t lo, std::size_t hi) {
              const std::size_t from = lo * unit, to = std::min(hi * unit, by_cols ? n : m);
              const auto off = static_cast<std::ptrdiff_t>(from);
              float* ws = gemm_workspace(G::workspace_size<Arch>());
              if (by_cols)
                G{}(arch, m, to - from, k, alpha, {a.data(), a.stride(0), a.stride(1)},
                    {b.data() + off * b.stride(1), b.stride(0), b.stride(1)}, beta, c.data() + off,
                    c.stride(0), ws);
              else
                G{}(arch, to - from, n, k, alpha,
                    {a.data() + off * a.stride(0), a.stride(0), a.stride(1)},
                    {b.data(), b.stride(0), b.stride(1)}, beta, c.data() + off * c.stride(0),
                    c.stride(0), ws);
            });
      });
      return;
    }
  }
  kernels::reference::gemm(a, b, c, alpha, beta);
}

}  // namespace detail

PARE_INLINE void gemm(TensorView<const float, 2> a, TensorView<const float, 2> b,
                      TensorView<float, 2> c, float alpha, float beta) {
  PARE_CHECK(a.extent(1) == b.extent(0) && a.extent(0) == c.extent(0) && b.extent(1) == c.extent(1),
             ShapeError, "gemm: A ", to_string(a.extents()), " · B ", to_string(b.extents()),
             " -> C ", to_string(c.extents()));
  detail::gemm_checked(a, b, c, alpha, beta);
}

PARE_INLINE void gemm_nt(TensorView<const float, 2> a, TensorView<const float, 2> b,
                         TensorView<float, 2> c, float alpha, float beta) {
  PARE_CHECK(a.extent(1) == b.extent(1) && a.extent(0) == c.extent(0) && b.extent(0) == c.extent(1),
             ShapeError, "gemm_nt: A ", to_string(a.extents()), " · Bᵀ with B ",
             to_string(b.extents()), " -> C ", to_string(c.extents()));
  detail::gemm_checked(a, b.transposed(), c, alpha, beta);
}

PARE_INLINE void gemm_tn(TensorView<const float, 2> a, TensorView<const float, 2> b,
                         TensorView<float, 2> c, float alpha, float beta) {
  PARE_CHECK(a.extent(0) == b.extent(0) && a.extent(1) == c.extent(0) && b.extent(1) == c.extent(1),
             ShapeError, "gemm_tn: Aᵀ with A ", to_string(a.extents()), " · B ",
             to_string(b.extents()), " -> C ", to_string(c.extents()));
  detail::gemm_checked(a.transposed(), b, c, alpha, beta);
}

}  // namespace pare
