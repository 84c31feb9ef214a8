// SPDX-License-Identifier: Apache-2.0
// pare — compressed weight nodes of the runtime graph (domain "pare"): a Gemm, MatMul or Conv
// whose weight is int8, 4-bit or sparse and runs on pare's kernels.
//
// nn/graph/compress.hpp writes these nodes; .pare files store them like any node (their weights
// are ordinary graph constants, so save_model and load_model need nothing special), and
// Model builds each one's kernel-ready weights once, when it compiles the graph.
//
//   op            inputs after x (all graph constants)                         kernel
//   LinearInt8    codes i8 [N, K], scales f32 [N], bias f32 [N]?                gemm_u8s8_f32
//   LinearInt4    codes u8 [N, Kp/2], scale_codes u8 [N, Kp/G], top f32 [1],    gemm_int4
//                 bias?  (Int4Matrix<Int4BlockFormat<G>>'s byte order)
//   LinearNf4     codes u8 [N, Kp/2], scales f32 [N, Kp/G], levels f32 [16],    gemv (lut4)
//                 bias?  (Lut4Matrix's byte order)
//   LinearSparse  mask u8 [N, ceil(K/8)] (bit k % 8 of byte k / 8), kept        spmm (Bitmap or
//                 values f32 [nnz] in row-major order, bias?                    PackedNM<2, 4>)
//
// W is [N, K] (out, in), y = x Wᵀ + b. Kp is K rounded up to the group G: the 4-bit formats
// need whole groups, so inputs are zero padded (attribute "in_features" is K). Attributes:
// "layout" = "matmul" (x [..., K] -> y [..., N]) or "conv" (x [N, C, H, W], ONNX Conv's
// kernel_shape/pads/strides/dilations/auto_pad; K = C·kh·kw, group 1, im2col then the product);
// LinearInt8 "activation" = "dynamic" (u8 with a range per row for layout "matmul", per image
// for "conv"; the default) or "static" with "act_scale" and "act_zero_point";
// LinearInt4/LinearNf4 "group_size"
// (weights per scale; "group" stays Conv's); LinearSparse "pattern" = "unstructured" or
// "2:4". A node whose constants are missing or of the wrong type or shape is refused when the
// model is built (FormatError naming the node).
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <string>

#include "pare/core/config.hpp"
#include "pare/core/tensor.hpp"
#include "pare/nn/graph/graph.hpp"
#include "pare/nn/graph/op.hpp"
#include "pare/nn/graph/value.hpp"

namespace pare::graph {

/// The domain of pare's own node kinds.
inline constexpr const char* pare_domain = "pare";

/// W [N, K] and bias, ready for a kernel: y = x Wᵀ + b.
class PackedLinear {
 public:
  virtual ~PackedLinear() = default;
  [[nodiscard]] virtual std::size_t in_features() const noexcept = 0;
  [[nodiscard]] virtual std::size_t out_features() const noexcept = 0;
  /// Bytes the kernel-ready weights hold.
  [[nodiscard]] virtual std::size_t size_bytes() const noexcept = 0;
  /// y [R, N] = x [R, K] Wᵀ + b, both contiguous.
  virtual void apply_rows(TensorView<const float, 2> x, TensorView<float, 2> y) const = 0;
  /// y [N, P] = W x + b for x [K, P] (an im2col matrix), both contiguous. By default through
  /// apply_rows on transposed copies; sparse weights override it (their kernel works this way).
  virtual void apply_cols(TensorView<const float, 2> x, TensorView<float, 2> y) const;
};

/// True for the node kinds this header runs.
[[nodiscard]] bool is_packed_op(const GraphNode& node) noexcept;

/// The kernel-ready weights of a compressed node, from its constant inputs. ArgumentError or
/// ShapeError naming the input when one is missing or of the wrong type or shape.
[[nodiscard]] std::shared_ptr<const PackedLinear> make_packed_linear(
    const GraphNode& node, const std::map<std::string, Value>& constants);

/// The op of a compressed node (weights built once, here).
[[nodiscard]] OpFn make_packed_op(const GraphNode& node,
                                  const std::map<std::string, Value>& constants);

}  // namespace pare::graph

#ifndef PARE_COMPILED_LIB
#include "pare/nn/graph/packed-inl.hpp"
#endif
