// SPDX-License-Identifier: Apache-2.0
// pare — definitions for kernels/conv2d_packed.hpp: compiled once into pare::compiled, or included
// by the header (core/config.hpp explains the two modes).
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <vector>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "pare/core/error.hpp"
#include "pare/core/parallel.hpp"
#include "pare/kernels/conv2d_packed.hpp"
#include "pare/kernels/gemm.hpp"
#include "pare/kernels/gemm_packed.hpp"
#include "pare/simd/arch.hpp"

// xsimd's exp/erf inline GCC 12's false -Wmaybe-uninitialized (see simd/arch.hpp).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace pare {

namespace detail {

// The tiling of the packed convolution: the register tile and depth slice of pare's GEMM, and
// the positions one B block spans (a KC × NC block stays in L2).
inline constexpr std::size_t conv_mr = 6, conv_nv = 2, conv_kc = 256, conv_nc = 1024;
static_assert(conv_mr == kernels::packed_tile_mr && conv_nv == kernels::packed_tile_nv,
              "the convolution packs its weight for kernels::PackedTiles' register tile");

// The multiply-adds below which a task of the convolution is not worth a thread (GEMM path),
// and the same for the depthwise kernel, whose tasks also refill a padded plane.
inline constexpr std::size_t conv_task_madds = std::size_t{1} << 21,
                             depthwise_task_madds = std::size_t{1} << 19;

// The B panels (panel q: for each depth p, NR consecutive output positions) of depth rows
// [pc, pc + kc) and positions [jc, jc + nc) of the implicit im2col matrix of one group: row
// (c, ki, kj) holds, per output position, the input pixel that tap (ki, kj) of channel c sees, or 0
// in the padding. Positions run over the samples of a batch one after another (P per sample,
// each sample's input `sample_stride` floats after the last); `x` is the first sample's first
// input channel of the group. Each panel's positions are cut into runs within one output row, so
// a run reads one input row at a constant stride.
// @pre kc <= conv_kc (the depth slices of both products are at most that deep).
template <std::size_t NR>
inline void pack_conv_panels(const Conv2dGeometry& g, const float* x, std::size_t sample_stride,
                             std::size_t pc, std::size_t kc, std::size_t jc, std::size_t nc,
                             float* dst) noexcept {
  const std::size_t ow = g.out_w(), P = g.out_h() * ow, taps = g.kernel_h * g.kernel_w;
  const auto H = static_cast<std::ptrdiff_t>(g.in_h), W = static_cast<std::ptrdiff_t>(g.in_w);
  const auto sh = static_cast<std::ptrdiff_t>(g.stride_h),
             sw = static_cast<std::ptrdiff_t>(g.stride_w);
  struct Run {
    const float* base;  // the run's sample
    std::size_t lane, len;
    std::ptrdiff_t y0, x0;  // input coordinates of the run's first position for tap (0, 0)
  };
  std::array<Run, NR> runs;
  // where each depth row of the slice reads: its channel's plane and its tap's offsets
  struct Tap {
    std::size_t plane;
    std::ptrdiff_t dy, dx;
  };
  std::array<Tap, conv_kc> taps_of;
  for (std::size_t p = 0; p < kc && p < conv_kc; ++p) {
    const std::size_t row = pc + p, c = row / taps, t = row % taps;
    taps_of[p] = {c * g.in_h * g.in_w, static_cast<std::ptrdiff_t>((t / g.kernel_w) * g.dilation_h),
                  static_cast<std::ptrdiff_t>((t % g.kernel_w) * g.dilation_w)};
  }
  for (std::size_t q = 0; q * NR < nc; ++q) {
    const std::size_t j0 = jc + q * NR, n_here = std::min(NR, nc - q * NR);
    std::size_t nruns = 0;
    for (std::size_t l = 0; l < n_here;) {
      const std::size_t j = (j0 + l) % P, oy = j / ow, ox = j % ow;
      const std::size_t len = std::min(n_here - l, ow - ox);
      runs[nruns++] = {
          x + (j0 + l) / P * sample_stride, l, len,
          static_cast<std::ptrdiff_t>(oy) * sh - static_cast<std::ptrdiff_t>(g.pad_top),
          static_cast<std::ptrdiff_t>(ox) * sw - static_cast<std::ptrdiff_t>(g.pad_left)};
      l += len;
    }
    float* panel = dst + q * kc * NR;
    for (std::size_t p = 0; p < kc; ++p) {
      const Tap& tap = taps_of[p];
      float* d = panel + p * NR;
      for (std::size_t r = 0; r < nruns; ++r) {
        const Run& run = runs[r];
        float* out = d + run.lane;
        const std::ptrdiff_t iy = run.y0 + tap.dy, len = static_cast<std::ptrdiff_t>(run.len);
        if (iy < 0 || iy >= H) {
          for (std::ptrdiff_t l = 0; l < len; ++l) out[l] = 0.0f;
          continue;
        }
        const float* src = run.base + tap.plane + iy * W;
        const std::ptrdiff_t ix0 = run.x0 + tap.dx;
        // lanes [lo, hi) read inside the row; the rest see padding
        std::ptrdiff_t lo, hi;
        if (sw == 1) {
          lo = std::clamp<std::ptrdiff_t>(-ix0, 0, len);
          hi = std::clamp<std::ptrdiff_t>(W - ix0, lo, len);
        } else {
          lo = std::min(ix0 >= 0 ? 0 : (-ix0 + sw - 1) / sw, len);
          hi = std::clamp<std::ptrdiff_t>(ix0 > W - 1 ? 0 : (W - 1 - ix0) / sw + 1, lo, len);
        }
        for (std::ptrdiff_t l = 0; l < lo; ++l) out[l] = 0.0f;
        if (sw == 1) {
          const float* from = src + ix0;
          for (std::ptrdiff_t l = lo; l < hi; ++l) out[l] = from[l];
        } else {
          for (std::ptrdiff_t l = lo; l < hi; ++l) out[l] = src[ix0 + l * sw];
        }
        for (std::ptrdiff_t l = hi; l < len; ++l) out[l] = 0.0f;
      }
      for (std::size_t l = n_here; l < NR; ++l) d[l] = 0.0f;
    }
  }
}

// Two per-thread scratch areas (slot 0: B panels or the padded plane; slot 1: a batched
// output), 64-byte aligned, grown to the largest request and kept.
inline float* conv_workspace(std::size_t slot, std::size_t floats) {
  thread_local std::array<std::vector<float>, 2> buffers;
  std::vector<float>& buffer = buffers[slot];
  if (buffer.size() < floats + 16) buffer.resize(floats + 16);
  const auto addr = reinterpret_cast<std::uintptr_t>(buffer.data());
  return buffer.data() + ((64 - addr % 64) % 64) / sizeof(float);
}

}  // namespace detail

PARE_INLINE float apply(const Epilogue& e, float x) noexcept {
  switch (e.kind) {
    case Activation::none:
      return x;
    case Activation::relu:
      return x > 0.0f ? x : 0.0f;
    case Activation::clip:
      return std::min(std::max(x, e.lo), e.hi);
    case Activation::hard_sigmoid:
      return std::max(0.0f, std::min(1.0f, e.alpha * x + e.beta));
    case Activation::hard_swish:
      return x * std::max(0.0f, std::min(1.0f, x / 6.0f + 0.5f));
    case Activation::sigmoid:
      return 1.0f / (1.0f + std::exp(-x));
    case Activation::silu:
      return x / (1.0f + std::exp(-x));
    case Activation::gelu:
      return 0.5f * x * (1.0f + std::erf(x * 0.70710678118654752f));
  }
  return x;
}

PARE_INLINE void apply(const Epilogue& e, float* data, std::size_t n) noexcept {
  if (e.kind == Activation::none) return;
  if constexpr (simd::has_simd) {
    simd::dispatch([&](auto arch) { kernels::StoreActivated{}(arch, e, data, nullptr, data, n); });
  } else {
    for (std::size_t i = 0; i < n; ++i) data[i] = apply(e, data[i]);
  }
}

struct PackedConv2d::Transposed {
  std::once_flag once;
  std::vector<PackedGemmB> groups;
};

PARE_INLINE PackedConv2d::PackedConv2d(TensorView<const float, 4> weight, const float* bias,
                                       std::size_t groups, Epilogue epilogue)
    : out_channels_(weight.extent(0)),
      group_in_(weight.extent(1)),
      kernel_h_(weight.extent(2)),
      kernel_w_(weight.extent(3)),
      groups_(groups),
      epilogue_(epilogue) {
  PARE_CHECK(groups > 0 && out_channels_ % groups == 0 && out_channels_ > 0, ArgumentError,
             "PackedConv2d: groups = ", groups, " must divide the ", out_channels_,
             " output channels");
  PARE_CHECK(weight.is_contiguous(), ArgumentError, "PackedConv2d: the weight must be contiguous");
  bias_.assign(out_channels_, 0.0f);
  if (bias) std::copy_n(bias, out_channels_, bias_.begin());
  const std::size_t taps = kernel_h_ * kernel_w_, k = group_in_ * taps;
  depthwise_ = group_in_ == 1 && groups > 1;
  transposed_ = std::make_shared<Transposed>();
  if (depthwise_) {
    weight_.assign(weight.data(), weight.data() + out_channels_ * taps);
    return;
  }
  // Per group, per depth slice, the MR-row panels of that slice (rows past the group's padded
  // to MR with zeros), in the order run_gemm reads them.
  const std::size_t og = out_channels_ / groups, MR = detail::conv_mr;
  const std::size_t og_pad = (og + MR - 1) / MR * MR;
  weight_.assign(groups * og_pad * k, 0.0f);
  for (std::size_t grp = 0; grp < groups; ++grp) {
    const float* wg = weight.data() + grp * og * k;
    float* dst = weight_.data() + grp * og_pad * k;
    for (std::size_t pc = 0; pc < k; pc += detail::conv_kc) {
      const std::size_t kc = std::min(detail::conv_kc, k - pc);
      kernels::detail::pack_a<detail::conv_mr>({wg + pc, static_cast<std::ptrdiff_t>(k), 1}, og, kc,
                                               dst + pc * og_pad);
    }
  }
}

PARE_INLINE void PackedConv2d::run(const Conv2dGeometry& g, const float* x, float* y,
                                   const float* residual, std::size_t batch) const {
  PARE_CHECK(g.out_channels == out_channels_ && g.groups == groups_ &&
                 g.in_channels == group_in_ * groups_ && g.kernel_h == kernel_h_ &&
                 g.kernel_w == kernel_w_,
             ShapeError, "PackedConv2d: geometry ", g.describe(), " does not match the packed ",
             out_channels_, "x", group_in_, "x", kernel_h_, "x", kernel_w_, " weight in ", groups_,
             " groups");
  g.validate();
  if (depthwise_ && simd::has_simd) {
    run_depthwise(g, x, y, residual, batch);
    return;
  }
  run_gemm(g, x, y, residual, batch);
}

PARE_INLINE void PackedConv2d::run_depthwise(const Conv2dGeometry& g, const float* x, float* y,
                                             const float* residual, std::size_t batch) const {
  // Each input plane is split, with its padding made explicit, into stride_h × stride_w phase
  // planes (phase (a, b) holds the padded pixels at rows a mod sh and columns b mod sw), so that
  // every tap of a strided convolution reads one phase plane at stride 1. An output row then
  // lies inside the phase plane's rows, `pitch` apart, and each tap is one long contiguous
  // multiply-add over the whole output plane (the columns past ow are computed and dropped),
  // which vectorizes however small the image is.
  const std::size_t oh = g.out_h(), ow = g.out_w(), mult = out_channels_ / groups_;
  const std::size_t sh = g.stride_h, sw = g.stride_w;
  const std::size_t hp = g.in_h + g.pad_top + g.pad_bottom, wp = g.in_w + g.pad_left + g.pad_right;
  const std::size_t pitch = (wp + sw - 1) / sw, rows = (hp + sh - 1) / sh + 1;  // + a slack row
  const std::size_t taps = kernel_h_ * kernel_w_;
  // the plane of outputs is computed in whole registers: up to 15 columns past the last row's
  // end, which read up to 15 floats past the phase plane (into the next one, or the slack below)
  const std::size_t span = (oh * pitch + 15) / 16 * 16, phase = rows * pitch + 16;
  // where each tap reads, relative to the phase planes
  std::vector<std::size_t> offsets(taps);
  for (std::size_t ki = 0; ki < kernel_h_; ++ki)
    for (std::size_t kj = 0; kj < kernel_w_; ++kj) {
      const std::size_t dy = ki * g.dilation_h, dx = kj * g.dilation_w;
      offsets[ki * kernel_w_ + kj] =
          ((dy % sh) * sw + dx % sw) * phase + (dy / sh) * pitch + dx / sw;
    }
  const std::size_t xs = g.in_channels * g.in_h * g.in_w, ys = out_channels_ * oh * ow;
  // Threads take runs of (sample, output channel) planes; each fills its own phase planes.
  auto planes = [&](auto arch, std::size_t lo, std::size_t hi) {
    float* phases = detail::conv_workspace(0, sh * sw * phase + span);
    float* acc = phases + sh * sw * phase;
    for (std::size_t at = lo; at < hi; ++at) {
      const std::size_t s = at / out_channels_, o = at % out_channels_;
      if (o % mult == 0 || at == lo) {
        std::fill_n(phases, sh * sw * phase, 0.0f);
        const float* plane = x + s * xs + (o / mult) * g.in_h * g.in_w;
        for (std::size_t r = 0; r < g.in_h; ++r) {
          const std::size_t py = r + g.pad_top;
          float* prow = phases + (py % sh) * sw * phase + (py / sh) * pitch;
          const float* src = plane + r * g.in_w;
          if (sw == 1) {
            std::copy_n(src, g.in_w, prow + g.pad_left);
            continue;
          }
          if (sw == 2) {
            kernels::Deinterleave2{}(arch, src, g.in_w, g.pad_left, prow, prow + phase);
            continue;
          }
          // one strided copy per column phase
          for (std::size_t b = 0; b < sw; ++b) {
            // the first input column c with (c + pad_left) % sw == b
            const std::size_t c0 = (b + sw - g.pad_left % sw) % sw;
            float* dst = prow + b * phase + (c0 + g.pad_left) / sw;
            for (std::size_t c = c0, i = 0; c < g.in_w; c += sw, ++i) dst[i] = src[c];
          }
        }
      }
      kernels::DepthwisePlane{}(arch, phases, offsets.data(), weight_.data() + o * taps, taps,
                                bias_[o], acc, span);
      float* yo = y + s * ys + o * oh * ow;
      const float* ro = residual ? residual + s * ys + o * oh * ow : nullptr;
      for (std::size_t r = 0; r < oh; ++r)
        kernels::StoreActivated{}(arch, epilogue_, acc + r * pitch, ro ? ro + r * ow : nullptr,
                                  yo + r * ow, ow);
    }
  };
  simd::dispatch([&](auto arch) {
    parallel_for(0, batch * out_channels_, detail::depthwise_task_madds / (taps * span + 1) + 1,
                 [&](std::size_t lo, std::size_t hi) { planes(arch, lo, hi); });
  });
}

PARE_INLINE void PackedConv2d::run_gemm(const Conv2dGeometry& g, const float* x, float* y,
                                        const float* residual, std::size_t batch) const {
  const std::size_t P = g.out_h() * g.out_w(), og = out_channels_ / groups_;
  const std::size_t k = group_in_ * kernel_h_ * kernel_w_, plane = g.in_h * g.in_w;
  const std::size_t xs = g.in_channels * plane, ys = out_channels_ * P;
  const std::size_t MR = detail::conv_mr, og_pad = (og + MR - 1) / MR * MR;
  if constexpr (simd::has_simd) {
    simd::dispatch([&](auto arch) {
      constexpr std::size_t NR = kernels::packed_tile_nr<decltype(arch)>;
      constexpr std::size_t NC = (detail::conv_nc + NR - 1) / NR * NR;
      // How full the register tiles' columns would be; below 85 % the transposed product, whose
      // columns are the output channels, fills them better.
      const std::size_t cols = batch == 1 || P >= NC ? P : batch * P;
      if (og >= NR && cols * 100 < (cols + NR - 1) / NR * NR * 85) {
        run_transposed(g, x, y, residual, batch);
        return;
      }
      // A 1×1, stride-1, unpadded convolution of one sample reads its B panels straight from the
      // input rows.
      const bool pointwise = kernel_h_ == 1 && kernel_w_ == 1 && g.stride_h == 1 &&
                             g.stride_w == 1 && g.pad_top == 0 && g.pad_left == 0 &&
                             g.pad_bottom == 0 && g.pad_right == 0;
      // Rows [r0, r1) × columns [j0, j1) of C[og, cols] = W_g · im2col(x_g) for `cols` positions
      // (over samples xs apart), into c with row stride ldc; the bias, and the activation when
      // `act`, fused into the last depth slice. r0 and j0 on register-tile boundaries.
      auto gemm_block = [&](std::size_t grp, const float* xg, std::size_t cols, float* c,
                            std::size_t ldc, bool act, float beta0, std::size_t r0, std::size_t r1,
                            std::size_t j0, std::size_t j1) {
        float* pb = detail::conv_workspace(0, detail::conv_kc * NC);
        const float* ag = weight_.data() + grp * og_pad * k;
        for (std::size_t jc = j0; jc < j1; jc += NC) {
          const std::size_t nc = std::min(NC, j1 - jc);
          for (std::size_t pc = 0; pc < k; pc += detail::conv_kc) {
            const std::size_t kc = std::min(detail::conv_kc, k - pc);
            if (pointwise && cols == P)
              kernels::detail::pack_b<NR>({xg + pc * P + jc, static_cast<std::ptrdiff_t>(P), 1}, kc,
                                          nc, pb);
            else
              detail::pack_conv_panels<NR>(g, xg, xs, pc, kc, jc, nc, pb);
            const float* ap = ag + pc * og_pad;
            const float beta = pc > 0 ? 1.0f : beta0;
            // The bias, and the activation when `act`, go with the last depth slice.
            const bool last = pc + kc == k;
            kernels::PackedTiles{}(arch, r1 - r0, nc, kc, ap + r0 * kc, pb, 1.0f, beta,
                                   c + r0 * ldc + jc, static_cast<std::ptrdiff_t>(ldc),
                                   last ? bias_.data() + grp * og + r0 : nullptr,
                                   last && act ? &epilogue_ : nullptr);
          }
        }
      };
      // The whole group, shared out between threads by whole panels of positions (each thread
      // gathers its own) or, for images with few positions, by whole tiles of output channels
      // (each thread then gathers all of them). Each output is computed as one thread would, so
      // the result does not depend on the thread count.
      auto gemm_group = [&](std::size_t grp, const float* xg, std::size_t cols, float* c,
                            std::size_t ldc, bool act, float beta0) {
        const std::size_t col_units = (cols + NR - 1) / NR, row_units = (og + MR - 1) / MR;
        const bool by_cols = col_units >= row_units || col_units >= 2 * num_threads();
        const std::size_t unit_madds = (by_cols ? NR * og : MR * cols) * k;
        parallel_for(0, by_cols ? col_units : row_units, detail::conv_task_madds / unit_madds + 1,
                     [&](std::size_t lo, std::size_t hi) {
                       if (by_cols)
                         gemm_block(grp, xg, cols, c, ldc, act, beta0, 0, og, lo * NR,
                                    std::min(cols, hi * NR));
                       else
                         gemm_block(grp, xg, cols, c, ldc, act, beta0, lo * MR,
                                    std::min(og, hi * MR), 0, cols);
                     });
      };
      if (batch == 1 || P >= NC) {
        for (std::size_t s = 0; s < batch; ++s) {
          float* ys0 = y + s * ys;
          if (residual) std::memcpy(ys0, residual + s * ys, ys * sizeof(float));
          for (std::size_t grp = 0; grp < groups_; ++grp)
            gemm_group(grp, x + s * xs + grp * group_in_ * plane, P, ys0 + grp * og * P, P, true,
                       residual ? 1.0f : 0.0f);
        }
        return;
      }
      // Small images: one GEMM over the positions of every sample fills the register tiles that a
      // sample's few positions would leave mostly empty; the result is then spread to [N, O, P].
      float* c = detail::conv_workspace(1, og * cols);
      for (std::size_t grp = 0; grp < groups_; ++grp) {
        gemm_group(grp, x + grp * group_in_ * plane, cols, c, cols, residual == nullptr, 0.0f);
        for (std::size_t s = 0; s < batch; ++s)
          for (std::size_t o = 0; o < og; ++o) {
            const float* src = c + o * cols + s * P;
            const std::size_t at = s * ys + (grp * og + o) * P;
            float* dst = y + at;
            if (!residual) {
              std::copy_n(src, P, dst);
              continue;
            }
            for (std::size_t i = 0; i < P; ++i)
              dst[i] = apply(epilogue_, src[i] + residual[at + i]);
          }
      }
    });
  } else {
    // Without SIMD: the panels are of no use; unpack the weight and run conv2d.
    const std::vector<float> unpacked = unpacked_weight();
    const TensorView<const float, 4> w(unpacked.data(),
                                       Shape<4>{out_channels_, group_in_, kernel_h_, kernel_w_});
    Tensor<float, 3> out({out_channels_, g.out_h(), g.out_w()});
    for (std::size_t s = 0; s < batch; ++s) {
      conv2d(g, TensorView<const float, 3>(x + s * xs, Shape<3>{g.in_channels, g.in_h, g.in_w}), w,
             bias_.data(), out.view());
      for (std::size_t i = 0; i < ys; ++i)
        y[s * ys + i] = apply(epilogue_, out.data()[i] + (residual ? residual[s * ys + i] : 0.0f));
    }
  }
}

PARE_INLINE std::vector<float> PackedConv2d::unpacked_weight() const {
  const std::size_t og = out_channels_ / groups_, k = group_in_ * kernel_h_ * kernel_w_;
  if (depthwise_) return weight_;
  const std::size_t MR = detail::conv_mr, og_pad = (og + MR - 1) / MR * MR;
  std::vector<float> w(out_channels_ * k);
  for (std::size_t grp = 0; grp < groups_; ++grp)
    for (std::size_t o = 0; o < og; ++o)
      for (std::size_t p = 0; p < k; ++p) {
        const std::size_t slice = p / detail::conv_kc * detail::conv_kc;
        const std::size_t kc = std::min(detail::conv_kc, k - slice);
        w[(grp * og + o) * k + p] = weight_[grp * og_pad * k + slice * og_pad + (o / MR) * MR * kc +
                                            (p - slice) * MR + o % MR];
      }
  return w;
}

PARE_INLINE void PackedConv2d::run_transposed(const Conv2dGeometry& g, const float* x, float* y,
                                              const float* residual, std::size_t batch) const {
  const std::size_t P = g.out_h() * g.out_w(), og = out_channels_ / groups_;
  const std::size_t k = group_in_ * kernel_h_ * kernel_w_, plane = g.in_h * g.in_w;
  const std::size_t xs = g.in_channels * plane, ys = out_channels_ * P, rows = batch * P;
  static_assert(detail::packed_kc <= detail::conv_kc,
                "pack_conv_panels gathers at most conv_kc depth rows per slice");
  std::call_once(transposed_->once, [&] {
    const std::vector<float> w = unpacked_weight();
    for (std::size_t grp = 0; grp < groups_; ++grp)
      transposed_->groups.emplace_back(
          TensorView<const float, 2>(w.data() + grp * og * k, Shape<2>{og, k}).transposed());
  });
  // Yᵀ [positions of every sample, og] per group, then spread to [N, O, P] with the epilogue
  float* c = detail::conv_workspace(1, rows * og);
  for (std::size_t grp = 0; grp < groups_; ++grp) {
    const float* xg = x + grp * group_in_ * plane;
    transposed_->groups[grp].multiply_with(
        rows,
        [&](std::size_t i0, std::size_t n, std::size_t p0, std::size_t depth, float* dst) {
          detail::pack_conv_panels<PackedGemmB::packed_mr>(g, xg, xs, p0, depth, i0, n, dst);
        },
        c, static_cast<std::ptrdiff_t>(og));
    for (std::size_t s = 0; s < batch; ++s)
      for (std::size_t o = 0; o < og; ++o) {
        const std::size_t at = s * ys + (grp * og + o) * P;
        const float b = bias_[grp * og + o];
        const float* src = c + s * P * og + o;
        for (std::size_t p = 0; p < P; ++p)
          y[at + p] = apply(epilogue_, src[p * og] + b + (residual ? residual[at + p] : 0.0f));
      }
  }
}

}  // namespace pare

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
