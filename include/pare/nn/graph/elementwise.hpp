// SPDX-License-Identifier: Apache-2.0
// pare — elementwise graph ops: Add, Sub, Mul, Div, Pow with numpy broadcasting, and the unary
// activations (Relu, Sigmoid, Tanh, Erf, Sqrt, Exp, Neg, Abs, Gelu, Identity).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "pare/core/config.hpp"
#include "pare/core/parallel.hpp"
#include "pare/nn/graph/attributes.hpp"
#include "pare/nn/graph/op.hpp"
#include "pare/nn/graph/value.hpp"

namespace pare::graph {

/// The numpy broadcast of two shapes (align right; each pair equal or one of them 1).
[[nodiscard]] std::vector<std::size_t> broadcast_shape(const std::vector<std::size_t>& a,
                                                       const std::vector<std::size_t>& b,
                                                       std::string_view op);

/// Element strides of `in` viewed as `out` (0 along broadcast dimensions).
[[nodiscard]] std::vector<std::size_t> broadcast_strides(const std::vector<std::size_t>& in,
                                                         const std::vector<std::size_t>& out);

/// Calls f(out_index, a_index, b_index) for every element of `shape`, with a and b broadcast
/// through strides `sa` and `sb`. The innermost dimension is a plain loop.
template <class F>
void for_each_broadcast(const std::vector<std::size_t>& shape, const std::vector<std::size_t>& sa,
                        const std::vector<std::size_t>& sb, F&& f) {
  const std::size_t r = shape.size();
  if (r == 0) {
    f(0, 0, 0);
    return;
  }
  if (element_count(shape) == 0) return;
  std::vector<std::size_t> idx(r, 0);
  const std::size_t inner = shape[r - 1], ia_step = sa[r - 1], ib_step = sb[r - 1];
  std::size_t o = 0;
  for (;;) {
    std::size_t ia = 0, ib = 0;
    for (std::size_t d = 0; d + 1 < r; ++d) {
      ia += idx[d] * sa[d];
      ib += idx[d] * sb[d];
    }
    for (std::size_t j = 0; j < inner; ++j, ++o) f(o, ia + j * ia_step, ib + j * ib_step);
    std::size_t d = r - 1;
    for (;;) {
      if (d == 0) return;
      --d;
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
}

/// Calls f(o, ia, ib, len, da, db) for runs of `len` consecutive output elements starting at
/// output index o, whose a and b elements start at ia and ib and advance by da and db (each 0 or
/// 1). Dimensions that a and b broadcast alike are merged first, so [N, C, H, W] · [N, C, 1, 1]
/// makes runs of H·W elements with db = 0: element-wise kernels specialize the run on (da, db)
/// and vectorize it. Runs longer than `task_elements` are cut into pieces of a multiple of 64
/// elements. f is called concurrently, on pare's threads, for disjoint runs when the shape holds
/// more than two tasks of `task_elements` each (else on the calling thread, in order): it must
/// only write the outputs of its own run.
template <class F>
void for_each_broadcast_run(const std::vector<std::size_t>& shape,
                            const std::vector<std::size_t>& sa, const std::vector<std::size_t>& sb,
                            std::size_t task_elements, F&& f) {
  if (element_count(shape) == 0) return;
  // merged dimensions: extent, stride of a, stride of b (innermost last)
  std::vector<std::size_t> ext, ta, tb;
  for (std::size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    if (!ext.empty() && ta.back() == sa[d] * shape[d] && tb.back() == sb[d] * shape[d]) {
      ext.back() *= shape[d];
      ta.back() = sa[d];
      tb.back() = sb[d];
      continue;
    }
    ext.push_back(shape[d]);
    ta.push_back(sa[d]);
    tb.push_back(sb[d]);
  }
  if (ext.empty()) {
    f(std::size_t{0}, std::size_t{0}, std::size_t{0}, std::size_t{1}, std::size_t{0},
      std::size_t{0});
    return;
  }
  const std::size_t r = ext.size(), len = ext[r - 1], da = ta[r - 1], db = tb[r - 1];
  const std::size_t runs = element_count(shape) / len;
  task_elements = std::max<std::size_t>(task_elements, 64);
  // A long run is cut into pieces: units of work are (run, piece) pairs in output order.
  const std::size_t piece = len > task_elements ? (task_elements + 63) / 64 * 64 : len;
  const std::size_t per_run = (len + piece - 1) / piece;
  const std::size_t grain = per_run > 1 ? 1 : task_elements / len + 1;
  parallel_for(0, runs * per_run, grain, [&](std::size_t lo, std::size_t hi) {
    std::size_t run = lo / per_run, part = lo % per_run;
    std::vector<std::size_t> idx(r, 0);
    for (std::size_t d = r - 1, q = run; d-- > 0;) {
      idx[d] = q % ext[d];
      q /= ext[d];
    }
    for (std::size_t u = lo; u < hi; ++u) {
      std::size_t ia = 0, ib = 0;
      for (std::size_t d = 0; d + 1 < r; ++d) {
        ia += idx[d] * ta[d];
        ib += idx[d] * tb[d];
      }
      const std::size_t off = part * piece;
      f(run * len + off, ia + off * da, ib + off * db, std::min(piece, len - off), da, db);
      if (++part < per_run) continue;
      part = 0;
      ++run;
      for (std::size_t d = r - 1; d-- > 0;) {
        if (++idx[d] < ext[d]) break;
        idx[d] = 0;
      }
    }
  });
}

/// `v` rounded toward zero into int64, saturating (NaN gives 0): a plain cast of an
/// out-of-range double is undefined behaviour.
[[nodiscard]] inline std::int64_t saturate_int64(double v) noexcept {
  if (std::isnan(v)) return 0;
  if (v >= 9.2233720368547758e18) return INT64_MAX;
  if (v <= -9.2233720368547758e18) return INT64_MIN;
  return static_cast<std::int64_t>(v);
}

enum class BinaryKind { add, sub, mul, div, pow };

/// Add/Sub/Mul/Div/Pow with numpy broadcasting: float32, or int64/int32 for shape arithmetic.
[[nodiscard]] OpFn make_binary(BinaryKind kind, std::string op);

enum class UnaryKind { relu, sigmoid, tanh, erf, sqrt, exp, neg, abs, gelu, gelu_tanh, hard_swish };

[[nodiscard]] inline float apply_unary(UnaryKind k, float x) noexcept {
  switch (k) {
    case UnaryKind::relu:
      return x > 0.0f ? x : 0.0f;
    case UnaryKind::sigmoid:
      return 1.0f / (1.0f + std::exp(-x));
    case UnaryKind::tanh:
      return std::tanh(x);
    case UnaryKind::erf:
      return std::erf(x);
    case UnaryKind::sqrt:
      return std::sqrt(x);
    case UnaryKind::exp:
      return std::exp(x);
    case UnaryKind::neg:
      return -x;
    case UnaryKind::abs:
      return std::fabs(x);
    case UnaryKind::gelu:
      return 0.5f * x * (1.0f + std::erf(x * 0.70710678118654752f));
    case UnaryKind::gelu_tanh: {
      const float c = 0.79788456080286536f;  // sqrt(2 / pi)
      return 0.5f * x * (1.0f + std::tanh(c * (x + 0.044715f * x * x * x)));
    }
    case UnaryKind::hard_swish:
      return x * std::clamp(x / 6.0f + 0.5f, 0.0f, 1.0f);
  }
  return x;
}

/// A float32 unary op (the output has the input's shape).
[[nodiscard]] OpFn make_unary(UnaryKind kind, std::string op);

/// HardSigmoid: max(0, min(1, alpha·x + beta)) (ONNX defaults alpha 0.2, beta 0.5).
[[nodiscard]] OpFn make_hard_sigmoid(float alpha, float beta, std::string op);

/// Identity: a copy of the input, any type.
[[nodiscard]] OpFn make_identity(std::string op);

/// Dropout in inference: a copy of the input, and the optional mask output all true. A
/// training_mode input that is true at run time is refused (pare runs inference graphs).
[[nodiscard]] OpFn make_dropout(const Attributes& attrs);

}  // namespace pare::graph

#ifndef PARE_COMPILED_LIB
#include "pare/nn/graph/elementwise-inl.hpp"
#endif
