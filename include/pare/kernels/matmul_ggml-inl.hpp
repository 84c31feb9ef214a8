// SPDX-License-Identifier: Apache-2.0
// pare — definitions for kernels/matmul_ggml.hpp: compiled once into pare::compiled, or included by
// the header (core/config.hpp explains the two modes).
#pragma once

#include <algorithm>

#include <cmath>
#include <cstring>
#include <limits>

#include "pare/core/config.hpp"
#include "pare/core/error.hpp"
#include "pare/core/float16.hpp"
#include "pare/core/parallel.hpp"
#include "pare/kernels/matmul_ggml.hpp"
#include "pare/simd/dispatch.hpp"

namespace pare::kernels {

PARE_INLINE void GgmlQ8Activations::quantize(const float* x, std::size_t n, std::size_t cols) {
  const std::size_t nb = cols / 32;
  rows = n;
  groups = (nb + 3) / 4;
  codes.assign(n * groups * 128, 0);
  start_q4.assign(n * groups * 16, 0);
  start_q8.assign(n * groups * 16, 0);
  scale.assign(n * groups * 16, 0.0f);
  const auto one_row = [&](std::size_t b) {
    const float* xr = x + b * cols;
    std::int8_t* c = codes.data() + b * groups * 128;
    float* s = scale.data() + b * groups * 16;
    for (std::size_t blk = 0; blk < nb; ++blk) {
      const float* v = xr + 32 * blk;
      // quantize_row_q8_0_ref: d = amax / 127, id = 1 / d, q = roundf(x * id), d kept as f16.
      float amax = 0;
      bool finite = true;
      for (std::size_t j = 0; j < 32; ++j) {
        finite = finite && std::isfinite(v[j]);
        amax = std::max(amax, std::fabs(v[j]));
      }
      const float d = amax / 127, id = d != 0.0f ? 1.0f / d : 0.0f;
      const std::size_t g = blk / 4, k = blk % 4;
      std::int8_t* cg = c + 128 * g;
      if (finite) {
        for (std::size_t j = 0; j < 32; ++j) {
          // roundf (half away from zero), exactly: |x * id| <= 127 + ulp, exact in double.
          // A block whose amax is subnormal has id = inf, so x * id is ±inf or NaN (0 · inf):
          // clamp it (ggml converts it to int, undefined); its f16 scale is 0 anyway.
          double t = static_cast<double>(v[j] * id);
          t = t == t ? std::clamp(t, -127.0, 127.0) : 0.0;
          const auto q = static_cast<std::int8_t>(static_cast<int>(t + (t < 0 ? -0.5 : 0.5)));
          cg[(j < 16 ? 16 * k : 64 + 16 * k) + j % 16] = q;
        }
      }
      const float dx =
          finite ? static_cast<float>(f16(d)) : std::numeric_limits<float>::quiet_NaN();
      for (std::size_t l = 0; l < 4; ++l) s[16 * g + 4 * k + l] = dx;
    }
    for (std::size_t i = 0; i < groups * 16; ++i) {
      const std::int8_t* cg = c + 128 * (i / 16) + 4 * (i % 16);
      std::int32_t sum = 0;
      for (std::size_t j = 0; j < 4; ++j) sum += cg[j] + cg[64 + j];
      start_q4[b * groups * 16 + i] = -8 * sum;
      start_q8[b * groups * 16 + i] = -128 * sum;
    }
  };
  parallel_for(0, n, std::max<std::size_t>(1, (std::size_t{1} << 16) / cols),
               [&](std::size_t lo, std::size_t hi) {
                 for (std::size_t b = lo; b < hi; ++b) one_row(b);
               });
}

namespace detail {

/// Whether GgmlMatmulRows may use Arch's VNNI: the CPU has it and `allow`.
template <class Arch>
[[nodiscard]] bool ggml_vnni(bool allow) {
  const simd::CpuFeatures& f = simd::cpu_features();
  if constexpr (simd::tier_of<Arch>() == simd::Tier::avx512)
    return allow && f.avx512f && f.avx512bw && f.avx512vnni;
  else if constexpr (simd::tier_of<Arch>() == simd::Tier::avx2)
    return allow && f.avx_vnni;
  else
    return false;
}

/// gemv and gemm: x [n, cols] quantized on the calling threads, then row blocks of 8 over pare's
/// threads.
PARE_INLINE void ggml_matmul(const GgmlBlockMatrix& w, const float* x, std::size_t n, float* y,
                             bool allow_vnni, const char* what) {
  if (n == 0) return;
  const std::size_t rows = w.rows(), cols = w.cols();
  PARE_CHECK(n <= (std::size_t{1} << 40) / cols && n <= (std::size_t{1} << 40) / rows,
             ArgumentError, what, ": ", n, " activation rows of ", cols, " (", rows,
             " outputs) overflow");
  thread_local GgmlQ8Activations tl;
  tl.quantize(x, n, cols);
  const GgmlQ8Activations* xa = &tl;  // the tasks read the caller's copy
  constexpr std::size_t rb = 8;
  // Pieces of at least ~64 KiB of weights per activation row (a few microseconds).
  const std::size_t block_work = rb * (w.size_bytes() / rows) * n;
  const std::size_t grain = std::max<std::size_t>(1, (std::size_t{1} << 16) / block_work);
  parallel_for(0, (rows + rb - 1) / rb, grain, [&](std::size_t lo, std::size_t hi) {
    const std::size_t r0 = lo * rb, r1 = std::min(rows, hi * rb);
    if constexpr (simd::has_simd) {
      simd::dispatch([&](auto arch) {
        GgmlMatmulRows{}(arch, w, *xa, y, rows, r0, r1, ggml_vnni<decltype(arch)>(allow_vnni));
      });
    } else {
      if (w.type() == GgmlBlockType::q8_0)
        ggml_rows_portable<void, true>(w, *xa, y, rows, r0, r1);
      else
        ggml_rows_portable<void, false>(w, *xa, y, rows, r0, r1);
    }
  });
}

}  // namespace detail

PARE_INLINE void gemv(const GgmlQ4_0Matrix& w, const float* x, float* y, bool allow_vnni) {
  detail::ggml_matmul(w, x, 1, y, allow_vnni, "gemv (Q4_0)");
}
PARE_INLINE void gemv(const GgmlQ8_0Matrix& w, const float* x, float* y, bool allow_vnni) {
  detail::ggml_matmul(w, x, 1, y, allow_vnni, "gemv (Q8_0)");
}
PARE_INLINE void gemm(const GgmlQ4_0Matrix& w, const float* x, std::size_t n, float* y,
                      bool allow_vnni) {
  detail::ggml_matmul(w, x, n, y, allow_vnni, "gemm (Q4_0)");
}
PARE_INLINE void gemm(const GgmlQ8_0Matrix& w, const float* x, std::size_t n, float* y,
                      bool allow_vnni) {
  detail::ggml_matmul(w, x, n, y, allow_vnni, "gemm (Q8_0)");
}

}  // namespace pare::kernels
