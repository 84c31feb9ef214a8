// SPDX-License-Identifier: Apache-2.0
// pare — definitions for kernels/gemm_packed.hpp: compiled once into pare::compiled, or included
// by the header (core/config.hpp explains the two modes).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "pare/core/error.hpp"
#include "pare/kernels/gemm.hpp"
#include "pare/kernels/gemm_packed.hpp"
#include "pare/simd/arch.hpp"

namespace pare {

namespace detail {

// The blocking of the packed product: pare::gemm's register tile and slices.
inline constexpr std::size_t packed_mr = 6, packed_nv = 2, packed_kc = 256, packed_mc = 96,
                             packed_nc = 2048;

template <class Arch>
constexpr std::size_t packed_nr() noexcept {
  return packed_nv * xsimd::batch<float, Arch>::size;
}

// Columns of one NC block, rounded up to whole panels.
template <class Arch>
constexpr std::size_t packed_block(std::size_t nc) noexcept {
  return (nc + packed_nr<Arch>() - 1) / packed_nr<Arch>() * packed_nr<Arch>();
}

inline float* packed_a_workspace(std::size_t floats) {
  thread_local std::vector<float> buffer;
  if (buffer.size() < floats + 16) buffer.resize(floats + 16);
  const auto addr = reinterpret_cast<std::uintptr_t>(buffer.data());
  return buffer.data() + ((64 - addr % 64) % 64) / sizeof(float);
}

}  // namespace detail

PARE_INLINE PackedGemmB::PackedGemmB(TensorView<const float, 2> b)
    : k_(b.extent(0)), n_(b.extent(1)) {
  if constexpr (simd::has_simd) {
    using Arch = xsimd::default_arch;
    constexpr std::size_t NR = detail::packed_nr<Arch>();
    // 64 floats of slack: the panels must start on a 64-byte boundary (aligned loads)
    panels_.assign(k_ * detail::packed_block<Arch>(n_) + 16, 0.0f);
    float* dst =
        panels_.data() +
        ((64 - reinterpret_cast<std::uintptr_t>(panels_.data()) % 64) % 64) / sizeof(float);
    for (std::size_t jc = 0; jc < n_; jc += detail::packed_nc) {
      const std::size_t nc = std::min(detail::packed_nc, n_ - jc);
      for (std::size_t pc = 0; pc < k_; pc += detail::packed_kc) {
        const std::size_t kc = std::min(detail::packed_kc, k_ - pc);
        kernels::detail::pack_b<NR>({b.data() + static_cast<std::ptrdiff_t>(pc) * b.stride(0) +
                                         static_cast<std::ptrdiff_t>(jc) * b.stride(1),
                                     b.stride(0), b.stride(1)},
                                    kc, nc, dst);
        dst += kc * detail::packed_block<Arch>(nc);
      }
    }
  } else {
    panels_.resize(k_ * n_);
    for (std::size_t p = 0; p < k_; ++p)
      for (std::size_t j = 0; j < n_; ++j) panels_[p * n_ + j] = b(p, j);
  }
}

PARE_INLINE void PackedGemmB::multiply(TensorView<const float, 2> a, TensorView<float, 2> c,
                                       const float* bias) const {
  PARE_CHECK(a.extent(1) == k_ && c.extent(1) == n_ && a.extent(0) == c.extent(0), ShapeError,
             "PackedGemmB: A ", to_string(a.extents()), " · B [", k_, ", ", n_, "] -> C ",
             to_string(c.extents()));
  PARE_CHECK(a.stride(1) == 1 && c.stride(1) == 1, ArgumentError,
             "PackedGemmB: A and C need unit column strides");
  const std::size_t m = a.extent(0);
  if (m == 0 || n_ == 0) return;
  // The bias is C's starting value; the product adds to it.
  for (std::size_t i = 0; i < m; ++i) {
    float* row = c.data() + static_cast<std::ptrdiff_t>(i) * c.stride(0);
    if (bias)
      std::copy_n(bias, n_, row);
    else if (k_ == 0)
      std::fill_n(row, n_, 0.0f);
  }
  if (k_ == 0) return;
  const float beta0 = bias ? 1.0f : 0.0f;
  if constexpr (simd::has_simd) {
    using Arch = xsimd::default_arch;
    constexpr std::size_t NR = detail::packed_nr<Arch>(), MR = detail::packed_mr;
    float* pa = detail::packed_a_workspace(detail::packed_kc * detail::packed_mc);
    const float* pb =
        panels_.data() +
        ((64 - reinterpret_cast<std::uintptr_t>(panels_.data()) % 64) % 64) / sizeof(float);
    for (std::size_t jc = 0; jc < n_; jc += detail::packed_nc) {
      const std::size_t nc = std::min(detail::packed_nc, n_ - jc);
      for (std::size_t pc = 0; pc < k_; pc += detail::packed_kc) {
        const std::size_t kc = std::min(detail::packed_kc, k_ - pc);
        const float beta = pc == 0 ? beta0 : 1.0f;
        for (std::size_t ic = 0; ic < m; ic += detail::packed_mc) {
          const std::size_t mc = std::min(detail::packed_mc, m - ic);
          kernels::detail::pack_a<MR>({a.data() + static_cast<std::ptrdiff_t>(ic) * a.stride(0) +
                                           static_cast<std::ptrdiff_t>(pc),
                                       a.stride(0), 1},
                                      mc, kc, pa);
          for (std::size_t jr = 0; jr < nc; jr += NR)
            for (std::size_t ir = 0; ir < mc; ir += MR)
              kernels::detail::micro_kernel<MR, detail::packed_nv, Arch>(
                  kc, pa + ir * kc, pb + jr * kc, 1.0f, beta,
                  c.data() + static_cast<std::ptrdiff_t>(ic + ir) * c.stride(0) +
                      static_cast<std::ptrdiff_t>(jc + jr),
                  c.stride(0), std::min(MR, mc - ir), std::min(NR, nc - jr));
        }
        pb += kc * detail::packed_block<Arch>(nc);
      }
    }
  } else {
    for (std::size_t i = 0; i < m; ++i)
      for (std::size_t p = 0; p < k_; ++p) {
        const float av = a(i, p);
        float* row = c.data() + static_cast<std::ptrdiff_t>(i) * c.stride(0);
        for (std::size_t j = 0; j < n_; ++j)
          row[j] = (p == 0 && beta0 == 0.0f ? 0.0f : row[j]) + av * panels_[p * n_ + j];
      }
  }
}

}  // namespace pare
