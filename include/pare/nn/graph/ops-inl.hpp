// SPDX-License-Identifier: Apache-2.0
// pare — definitions for nn/graph/ops.hpp: compiled once into pare::compiled, or included by the
// header (core/config.hpp explains the two modes).
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "pare/core/error.hpp"
#include "pare/nn/graph/ops.hpp"

namespace pare::graph {

PARE_INLINE OpFn make_op(const GraphNode& node, std::int64_t opset,
                         const std::map<std::string, Value>* constants) {
  const std::string& t = node.op_type;
  const Attributes& a = node.attrs;
  const std::string what = t + " '" + node.name + "'";
  const bool standard = node.domain.empty() || node.domain == "ai.onnx";
  if (!standard) {
    if (node.domain == pare_domain && is_packed_op(node)) {
      PARE_CHECK(constants != nullptr, ArgumentError, what,
                 ": a compressed node needs the graph's constants to build");
      return make_packed_op(node, *constants);
    }
    if (node.domain == "com.microsoft" && t == "Gelu") return make_unary(UnaryKind::gelu, what);
    throw UnsupportedError("unsupported op '" + t + "' (domain '" + node.domain + "') in node '" +
                           node.name + "'");
  }
  if (t == "Add") return make_binary(BinaryKind::add, what);
  if (t == "Sub") return make_binary(BinaryKind::sub, what);
  if (t == "Mul") return make_binary(BinaryKind::mul, what);
  if (t == "Div") return make_binary(BinaryKind::div, what);
  if (t == "Pow") return make_binary(BinaryKind::pow, what);
  if (t == "Relu") return make_unary(UnaryKind::relu, what);
  if (t == "Sigmoid") return make_unary(UnaryKind::sigmoid, what);
  if (t == "Tanh") return make_unary(UnaryKind::tanh, what);
  if (t == "Erf") return make_unary(UnaryKind::erf, what);
  if (t == "Sqrt") return make_unary(UnaryKind::sqrt, what);
  if (t == "Exp") return make_unary(UnaryKind::exp, what);
  if (t == "Neg") return make_unary(UnaryKind::neg, what);
  if (t == "Abs") return make_unary(UnaryKind::abs, what);
  if (t == "Gelu") {
    const std::string approx = a.get_string("approximate", "none");
    PARE_CHECK(approx == "none" || approx == "tanh", UnsupportedError, what, ": approximate = '",
               approx, "'");
    return make_unary(approx == "tanh" ? UnaryKind::gelu_tanh : UnaryKind::gelu, what);
  }
  if (t == "HardSwish") return make_unary(UnaryKind::hard_swish, what);
  if (t == "HardSigmoid")
    return make_hard_sigmoid(a.get_float("alpha", 0.2f), a.get_float("beta", 0.5f), what);
  if (t == "Identity") return make_identity(what);
  if (t == "Gemm") return make_gemm(node, constants);
  if (t == "MatMul") return make_matmul(node, constants);
  if (t == "MatMulInteger") return make_matmul_integer(a);
  if (t == "Conv") return make_conv(node, constants);
  if (t == "BatchNormalization") return make_batch_norm(a);
  if (t == "MaxPool") return make_pool(PoolKind::max, a);
  if (t == "AveragePool") return make_pool(PoolKind::average, a);
  if (t == "GlobalAveragePool") return make_global_average_pool(a);
  if (t == "Flatten") return make_flatten(a);
  if (t == "Reshape") return make_reshape(a);
  if (t == "Transpose") return make_transpose(a);
  if (t == "Concat") return make_concat(a);
  if (t == "Squeeze") return make_squeeze(a);
  if (t == "Unsqueeze") return make_unsqueeze(a);
  if (t == "Shape") return make_shape(a);
  if (t == "Gather") return make_gather(a);
  if (t == "Constant") return make_constant(a);
  if (t == "Softmax") return make_softmax(a, opset);
  if (t == "LogSoftmax") return make_softmax(a, opset, SoftmaxKind::log_softmax);
  if (t == "Hardmax") return make_softmax(a, opset, SoftmaxKind::hardmax);
  if (t == "Dropout") return make_dropout(a);
  if (t == "QuantizeLinear") return make_quantize_linear(a);
  if (t == "DequantizeLinear") return make_dequantize_linear(a);
  if (OpFn f = make_math_op(node, opset)) return f;
  if (OpFn f = make_tensor_op(node, opset)) return f;
  if (OpFn f = make_spatial_op(node, opset)) return f;
  throw UnsupportedError("unsupported op '" + t + "' in node '" + node.name + "'");
}

}  // namespace pare::graph
