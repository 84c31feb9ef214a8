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

PARE_INLINE float* packed_a_workspace(std::size_t floats) {
  thread_local std::vector<float> buffer;
  if (buffer.size() < floats + 16) buffer.resize(floats + 16);
  const auto addr = reinterpret_cast<std::uintptr_t>(buffer.data());
  return buffer.data() + ((64 - addr % 64) % 64) / sizeof(float);
}

}  // namespace detail

PARE_INLINE const float* PackedGemmB::panels() const noexcept {
  return panels_.data() +
         ((64 - reinterpret_cast<std::uintptr_t>(panels_.data()) % 64) % 64) / sizeof(float);
}

PARE_INLINE PackedGemmB::PackedGemmB(TensorView<const float, 2> b)
    : k_(b.extent(0)), n_(b.extent(1)) {
  if constexpr (simd::has_simd) {
    tier_ = simd::active_tier();
    simd::dispatch_at(tier_, [&](auto arch) {
      using Arch = decltype(arch);
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
    });
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
    multiply_with(
        m,
        [&](std::size_t i0, std::size_t rows, std::size_t p0, std::size_t depth, float* dst) {
          kernels::detail::pack_a<detail::packed_mr>(
              {a.data() + static_cast<std::ptrdiff_t>(i0) * a.stride(0) +
                   static_cast<std::ptrdiff_t>(p0),
               a.stride(0), 1},
              rows, depth, dst);
        },
        c.data(), c.stride(0), bias != nullptr);
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
