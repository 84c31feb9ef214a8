// SPDX-License-Identifier: Apache-2.0
// pare — inference convolution with weights packed once: the fast path of the graph runtime's
// Conv and of anything else that runs one convolution many times.
//
//   pare::PackedConv2d conv(weight /*[O, C/groups, kh, kw]*/, bias, groups,
//                           {.kind = pare::Activation::relu});
//   conv.run(geometry, x /*[C, H, W]*/, y /*[O, oh, ow]*/);          // y = relu(conv(x) + bias)
//   conv.run(geometry, x, y, residual);                               // y = relu(conv(x) + b + r)
//
// Why not conv2d (kernels/conv2d.hpp): that one packs the weight and materializes the im2col
// matrix on every call. Here the weight is packed into the GEMM micro-kernel's A panels when the
// model loads, the receptive fields are gathered straight into the B panels (no column buffer),
// and bias, the residual and the activation are applied to the register tile before it is
// stored, so the output is written once. Depthwise convolutions (one input channel per group) are
// not a GEMM at all — a GEMM of one row per channel wastes the micro-kernel — and run a direct
// kernel instead.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "pare/core/config.hpp"
#include "pare/core/tensor.hpp"
#include "pare/kernels/conv2d.hpp"
#include "pare/kernels/packed_tiles.hpp"

namespace pare {

/// The activation applied to one value, as the fused kernels apply it.
[[nodiscard]] float apply(const Epilogue& e, float x) noexcept;

/// The activation applied to `n` values in place, a register at a time.
void apply(const Epilogue& e, float* data, std::size_t n) noexcept;

/// A 2-D convolution (ONNX Conv / torch conv2d semantics: any stride, padding, dilation, groups)
/// with its weight packed at construction; the spatial sizes may differ from call to call.
class PackedConv2d {
 public:
  PackedConv2d() = default;
  /// Packs `weight` [O, C/groups, kh, kw] (contiguous) and copies `bias` (nullptr or O floats).
  /// Throws ArgumentError when groups does not divide O.
  PackedConv2d(TensorView<const float, 4> weight, const float* bias, std::size_t groups,
               Epilogue epilogue = {});

  [[nodiscard]] std::size_t out_channels() const noexcept { return out_channels_; }
  [[nodiscard]] std::size_t groups() const noexcept { return groups_; }
  [[nodiscard]] const Epilogue& epilogue() const noexcept { return epilogue_; }

  /// y = act(conv(x) + bias [+ residual]) for `batch` samples: x [batch, C, H, W], y and
  /// residual [batch, O, oh, ow], all contiguous. `g` must agree with the packed weight (channels,
  /// kernel size, groups; else ShapeError). Runs on up to num_threads() threads
  /// (core/parallel.hpp), with the same result for any count.
  /// @pre y overlaps neither x nor the residual.
  void run(const Conv2dGeometry& g, const float* x, float* y, const float* residual = nullptr,
           std::size_t batch = 1) const;

 private:
  void run_depthwise(const Conv2dGeometry& g, const float* x, float* y, const float* residual,
                     std::size_t batch) const;
  void run_gemm(const Conv2dGeometry& g, const float* x, float* y, const float* residual,
                std::size_t batch) const;
  void run_transposed(const Conv2dGeometry& g, const float* x, float* y, const float* residual,
                      std::size_t batch) const;
  /// The weight as [O, C/groups·kh·kw] again, from the panels.
  [[nodiscard]] std::vector<float> unpacked_weight() const;

  // The weight packed the other way round (as the B of Yᵀ = im2col(x)ᵀ·Wᵀ, one per group), for
  // images so small that their positions would leave most of a register tile empty; packed on
  // first use (only such images need it).
  struct Transposed;
  std::shared_ptr<Transposed> transposed_;

  std::size_t out_channels_ = 0, group_in_ = 0, kernel_h_ = 0, kernel_w_ = 0, groups_ = 1;
  Epilogue epilogue_;
  bool depthwise_ = false;
  std::vector<float> bias_;    ///< O floats (zeros without a bias)
  std::vector<float> weight_;  ///< depthwise: [O, kh·kw]; else the A panels of every group
};

}  // namespace pare

#ifndef PARE_COMPILED_LIB
#include "pare/kernels/conv2d_packed-inl.hpp"
#endif
